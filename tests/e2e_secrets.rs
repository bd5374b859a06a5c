//! Build secrets (`build-secrets`, issue 20) through the tool's own BuildKit session, on a real engine.
//!
//! A workspace whose build script reads two secrets, one from the environment and one from a file outside the
//! workspace, builds; the image says what the build script saw (each value's length and byte sum, never the
//! value). Then neither value appears anywhere: not in the runtime image nor in the builder stage (both exported
//! with `docker save` and searched byte for byte), not in `docker history` or `docker image inspect`, not in the
//! JSON events, the terminal output, the logs under `target/dockerize` or the metadata file. The builder stage is
//! built by a plain `docker build --secret` of the generated Dockerfile, which is how a user builds it without
//! the tool. A secret that is not set fails in one line naming it, with nothing written. [`ssh`]: a git
//! dependency over ssh through the user's agent. [`registry`]: a private Cargo registry with a token.
//!
//! Run: `cargo test --test e2e_secrets -- --ignored --nocapture` (on each engine: `DOCKER_HOST=...`).

mod common;
// The crate root is this file, so its modules live beside it under a directory of its name.
#[path = "e2e_secrets/registry.rs"]
mod registry;
#[path = "e2e_secrets/ssh.rs"]
mod ssh;

use common::{buildkit_docker, docker_ok, engine_lock, run, run_image, Fixture, TestImages};

const MANIFEST: &str = r#"[package]
name = "secretive"
version = "0.1.0"
edition = "2021"

[workspace]

[workspace.metadata.dockerize]
build-secrets = ["DZ_BUILD_TOKEN", { name = "DZ_FILE_SECRET", file = "@SECRET_FILE@" }]
"#;

/// Tells the program what it saw of each secret: its length and byte sum, which prove it arrived without
/// putting it into the binary. `rerun-if-env-changed` makes Cargo keep the value in its fingerprint files:
/// exactly what must not reach a layer.
const BUILD_RS: &str = r#"fn main() {
    println!("cargo:rerun-if-env-changed=DZ_BUILD_TOKEN");
    println!("cargo:rerun-if-env-changed=DZ_FILE_SECRET");
    let seen = |name: &str| {
        let value = std::env::var(name).unwrap_or_default();
        format!("{} {}", value.len(), value.bytes().map(u64::from).sum::<u64>())
    };
    println!("cargo:rustc-env=DZ_SEEN=token {} file {}", seen("DZ_BUILD_TOKEN"), seen("DZ_FILE_SECRET"));
}
"#;

const MAIN_RS: &str = r#"fn main() {
    println!("{}", env!("DZ_SEEN"));
}
"#;

/// A value no build could hold by chance.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("dz-{what}-{}-{nanos}-s3cr3t", std::process::id())
}

fn seen(value: &str) -> String {
    format!(
        "{} {}",
        value.len(),
        value.bytes().map(u64::from).sum::<u64>()
    )
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Whether `file` holds `value`, by `grep -F` (an image's tar is too large for a search in a debug build).
fn file_holds(file: &std::path::Path, value: &str) -> bool {
    let mut grep = std::process::Command::new("grep");
    grep.args(["-a", "-q", "-F", "-e", value]).arg(file);
    let found = run(&mut grep);
    assert!(
        matches!(found.code, Some(0 | 1)),
        "{}",
        found.describe("grep")
    );
    found.code == Some(0)
}

/// `docker save` of `reference`, searched for each of `values`.
fn assert_not_in_saved_image(reference: &str, values: &[&str], dir: &std::path::Path) {
    let tar = dir.join(format!("{}.tar", reference.replace([':', '/'], "_")));
    docker_ok(&["save", "-o", tar.to_str().unwrap(), reference]);
    let size = std::fs::metadata(&tar).unwrap().len();
    assert!(size > 1024, "`docker save {reference}` wrote {size} bytes");
    for value in values {
        assert!(
            !file_holds(&tar, value),
            "a secret is in `docker save {reference}`"
        );
    }
    let _ = std::fs::remove_file(&tar);
    for args in [
        vec!["history", "--no-trunc", reference],
        vec!["image", "inspect", reference],
    ] {
        let out = docker_ok(&args);
        for value in values {
            assert!(
                !out.contains(value),
                "a secret is in `docker {}`",
                args.join(" ")
            );
        }
    }
    println!("e2e: `{reference}`: {size} bytes saved, no secret in them, its history or config");
}

/// Neither value in the run's output, the Dockerfile, the logs under `target/dockerize` or the metadata file.
fn assert_not_written(
    copy: &Fixture,
    built: &common::Run,
    metadata: &std::path::Path,
    values: &[&str],
) {
    let dockerfile = copy.dockerfile();
    for (what, text) in [
        ("stdout", &built.stdout),
        ("stderr", &built.stderr),
        ("the Dockerfile", &dockerfile),
    ] {
        for value in values {
            assert!(!text.contains(value), "a secret is in {what}");
        }
    }
    let mut written = files_under(&copy.path("target/dockerize"));
    assert!(!written.is_empty(), "no logs under target/dockerize");
    written.push(metadata.to_path_buf());
    for file in &written {
        let bytes = std::fs::read(file).unwrap();
        for value in values {
            assert!(
                !contains(&bytes, value),
                "a secret is in {}",
                file.display()
            );
        }
    }
}

/// The builder stage, as a plain `docker build --secret` of the committed Dockerfile makes it (its steps cached
/// from the tool's build): the cooked target directory is a layer of it. Returns its tag.
fn build_builder_stage(
    copy: &Fixture,
    images: &TestImages,
    dir: &std::path::Path,
    token: &str,
    secret_file: &std::path::Path,
    values: &[&str],
) -> String {
    let token_file = dir.join("token");
    std::fs::write(&token_file, token).unwrap();
    let builder = images.tag("builder", "t");
    let mut plain = buildkit_docker();
    plain
        .args(["build", "--target", "builder", "-t", &builder])
        .arg("--secret")
        .arg(format!("id=DZ_BUILD_TOKEN,src={}", token_file.display()))
        .arg("--secret")
        .arg(format!("id=DZ_FILE_SECRET,src={}", secret_file.display()))
        .arg(&copy.root);
    let plain = run(&mut plain);
    plain.assert_success("docker build --target builder --secret ...");
    for value in values {
        assert!(!plain.stdout.contains(value) && !plain.stderr.contains(value));
    }
    builder
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_secrets -- --ignored"]
fn e2e_build_secrets_reach_the_build_script_and_no_layer() {
    let _engine = engine_lock();
    let images = TestImages::new("secrets");
    let token = unique("token");
    let file_value = unique("file");
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("file-secret");
    std::fs::write(&secret_file, &file_value).unwrap();
    let manifest = MANIFEST.replace("@SECRET_FILE@", secret_file.to_str().unwrap());
    let copy = Fixture::from_files(
        "secretive",
        &[
            ("Cargo.toml", &manifest),
            ("build.rs", BUILD_RS),
            ("src/main.rs", MAIN_RS),
        ],
    );
    // The lock is the user's, committed beside the manifest: the tool reads it and never writes it.
    copy.relock();
    let metadata = outside.path().join("metadata.json");
    let template = images.template("t");
    let args = [
        "build",
        "--libc",
        "gnu",
        "--static",
        "-t",
        &template,
        "--message-format",
        "json",
        "--metadata-file",
        metadata.to_str().unwrap(),
    ];

    // Without the variable: one line naming the secret, nothing written.
    let mut unset = copy.command(&args);
    unset.env_remove("DZ_BUILD_TOKEN");
    let failed = run(&mut unset);
    let line = failed.assert_one_error(1, "build without DZ_BUILD_TOKEN");
    assert!(line.contains("`DZ_BUILD_TOKEN`"), "{line}");
    assert!(
        !copy.dockerfile_path().exists(),
        "a failed build wrote the Dockerfile"
    );

    // The classic builder cannot mount secrets: refused once connected, before any build.
    let mut classic = copy.command(&args);
    classic
        .env("DZ_BUILD_TOKEN", &token)
        .args(["--builder", "classic"]);
    let refused = run(&mut classic);
    let line = refused.assert_one_error(1, "build --builder classic with secrets");
    assert!(
        line.contains("classic builder") && line.contains("DZ_BUILD_TOKEN"),
        "{line}"
    );

    let mut command = copy.command(&args);
    command.env("DZ_BUILD_TOKEN", &token);
    let built = run(&mut command);
    built.assert_success("build with secrets");
    println!("e2e: built with two secrets in {:.1}s", built.seconds);
    let reference = images.tag("secretive", "t");
    assert_eq!(
        run_image(&reference).trim(),
        format!("token {} file {}", seen(&token), seen(&file_value)),
        "the build script saw both secrets"
    );
    let dockerfile = copy.dockerfile();
    assert_eq!(
        dockerfile
            .matches("--mount=type=secret,id=DZ_BUILD_TOKEN,required=true")
            .count(),
        2,
        "mounted in the cook and the final compile only:\n{dockerfile}"
    );
    let values = [token.as_str(), file_value.as_str()];
    assert_not_written(&copy, &built, &metadata, &values);
    let builder = build_builder_stage(
        &copy,
        &images,
        outside.path(),
        &token,
        &secret_file,
        &values,
    );
    assert_not_in_saved_image(&reference, &values, outside.path());
    assert_not_in_saved_image(&builder, &values, outside.path());
}
