//! What the build context holds (issue 19, item 4), as Docker itself sends it: files that hold credentials by
//! convention stay out at any depth, for the workspace at the context root and for a context that path
//! dependencies widen above the workspace, where the ignore file is `<Dockerfile>.dockerignore` beside the
//! Dockerfile.
//!
//! Each case generates the files, plants credential files at several depths, then puts a Dockerfile that copies
//! the whole context (`FROM scratch`, `COPY . /`) at the generated Dockerfile's place, so Docker reads the same
//! ignore file for it, and builds it with a plain BuildKit `docker build --output type=local`: the output
//! directory is exactly what the context held. The sources, the manifests and the scripts are there; no
//! credential file is. (The classic builder reads only the context root's `.dockerignore`, and cannot run the
//! generated Dockerfile at all: it mounts caches and secrets with `RUN --mount`.)
//!
//! Run: `cargo test --test e2e_context -- --ignored --nocapture` (on each engine: `DOCKER_HOST=...`).

mod common;

use std::path::Path;

use common::{buildkit_docker, engine_lock, run, Fixture};

/// Credential files by convention, planted in every directory the test names.
const CREDENTIALS: &[&str] = &[
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".docker/config.json",
    ".ssh/id_ed25519",
    ".ssh/config",
    ".aws/credentials",
    ".gnupg/pubring.kbx",
    ".env",
    ".env.production",
    "id_rsa",
];

/// Files a workspace may legitimately read in a build, whatever they look like: they stay in the context.
const KEPT: &[&str] = &["certs/ca.pem", "tests/fixtures/server.key"];

/// Writes the credential and kept files under `dir` (relative to `root`).
fn plant(root: &Path, dir: &str) {
    for file in CREDENTIALS.iter().chain(KEPT) {
        let path = root.join(dir).join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "dz-not-a-real-secret\n").unwrap();
    }
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files
}

/// Generates the files, plants credentials in `dirs` (relative to the context root), builds the context as Docker
/// sends it for the Dockerfile at `dockerfile` (relative to `context`), and returns what it held.
fn context_of(fixture: &Fixture, context: &Path, dockerfile: &str, dirs: &[&str]) -> Vec<String> {
    fixture.generate(&[]);
    for dir in dirs {
        plant(context, dir);
    }
    std::fs::write(
        context.join(dockerfile),
        "FROM scratch AS context\nCOPY . /\n",
    )
    .unwrap();
    let out = fixture.outside.join("context-out");
    // From the context root, as the Dockerfile's header says: `docker build -f app/Dockerfile ..` from `app`
    // is the same build.
    let built = run(buildkit_docker()
        .current_dir(context)
        .args(["build", "--quiet", "--file", dockerfile, "--output"])
        .arg(format!("type=local,dest={}", out.display()))
        .arg("."));
    built.assert_success("docker build --output of the context");
    files(&out)
}

/// No credential file under any of `dirs`; every kept file there.
fn assert_no_credentials(held: &[String], dirs: &[&str]) {
    for dir in dirs {
        let at = |file: &str| {
            Path::new(dir)
                .join(file)
                .to_string_lossy()
                .trim_start_matches('/')
                .to_string()
        };
        for file in CREDENTIALS {
            assert!(
                !held.contains(&at(file)),
                "`{}` is in the build context: {held:#?}",
                at(file)
            );
        }
        for file in KEPT {
            assert!(
                held.contains(&at(file)),
                "`{}` is left out of the build context: {held:#?}",
                at(file)
            );
        }
    }
}

#[test]
#[ignore = "needs a Docker engine"]
fn the_workspace_context_holds_no_credentials_at_any_depth() {
    let _engine = engine_lock();
    let fixture = Fixture::copy("single-bin");
    let dirs = ["", "src", "src/deep/er"];
    let held = context_of(&fixture, &fixture.root, "Dockerfile", &dirs);
    assert_no_credentials(&held, &dirs);
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        ".dockerize/build.sh",
    ] {
        assert!(
            held.iter().any(|h| h == file),
            "`{file}` is missing: {held:#?}"
        );
    }
    assert!(!held
        .iter()
        .any(|h| h == "Dockerfile" || h == ".dockerignore"));
}

#[test]
#[ignore = "needs a Docker engine"]
fn a_widened_context_reads_the_ignore_file_beside_the_dockerfile() {
    let _engine = engine_lock();
    let fixture = Fixture::copy("path-outside/app");
    let context = fixture.outside.join("path-outside");
    let dirs = ["", "app", "app/src", "shared-lib", "shared-lib/src"];
    let held = context_of(&fixture, &context, "app/Dockerfile", &dirs);
    assert!(
        fixture.path("Dockerfile.dockerignore").is_file(),
        "no ignore file beside the Dockerfile"
    );
    assert_no_credentials(&held, &dirs);
    for file in [
        "app/Cargo.toml",
        "app/src/main.rs",
        "app/.dockerize/build.sh",
        "shared-lib/Cargo.toml",
        "shared-lib/src/lib.rs",
    ] {
        assert!(
            held.iter().any(|h| h == file),
            "`{file}` is missing: {held:#?}"
        );
    }
    for file in ["app/Dockerfile", "app/Dockerfile.dockerignore"] {
        assert!(
            !held.iter().any(|h| h == file),
            "`{file}` is in the context"
        );
    }
}
