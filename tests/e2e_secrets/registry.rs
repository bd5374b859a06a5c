//! A private Cargo registry with a token: an authenticated sparse registry on loopback
//! ([`crate::common::sparse_registry`]) serves a crate the workspace depends on, declared in the workspace's
//! `.cargo/config.toml`. The token reaches the builder's Cargo only as a BuildKit secret, over the host's network:
//! read from Cargo's `credentials.toml`, the image runs the private crate's code, and a plain `docker build
//! --secret id=CARGO_REGISTRIES_<NAME>_TOKEN,env=...` of the committed Dockerfile builds the builder stage too;
//! then the token is nowhere (the images saved and searched, their history, the logs, the JSON events, the
//! metadata file, the terminal). Without a token the build fails in one line naming the registry and the
//! variable, with nothing written; with a wrong one (the registry answers 403) in one line naming the registry,
//! Cargo's words kept in the build log.
//!
//! The host's Cargo runs with a `CARGO_HOME` of the test's own, whose `config.toml` names the `cargo:token`
//! credential provider (Cargo sends no token to an authenticated registry without one configured), as a user's
//! `~/.cargo/config.toml` does; the builder, which sees none of it, gets the provider from the Dockerfile.

use std::path::Path;
use std::process::Command;

use crate::common::sparse_registry::{package, SparseRegistry};
use crate::common::{buildkit_docker, docker, engine_lock, run, run_image, Fixture, TestImages};

const GREETING: &str = "hello from a private registry";
const VARIABLE: &str = "CARGO_REGISTRIES_DZ_PRIVATE_TOKEN";

/// The host's Cargo: `cargo <args>` in the workspace (whose `.cargo/config.toml` it reads from there) with the test's `CARGO_HOME`, which must succeed.
fn host_cargo(copy: &Fixture, cargo_home: &Path, token: &str, args: &[&str]) {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args(args)
        .arg("--manifest-path")
        .arg(copy.manifest())
        .current_dir(&copy.root)
        .env("CARGO_HOME", cargo_home)
        .env(VARIABLE, token);
    run(&mut cargo).assert_success(&format!("cargo {}", args.join(" ")));
}

/// The registry, the test's `CARGO_HOME` and the workspace, with the lock resolved and the crate fetched on the
/// host with the token, as the user did.
struct Setup {
    dir: tempfile::TempDir,
    registry: SparseRegistry,
    cargo_home: std::path::PathBuf,
    copy: Fixture,
}

fn setup(token: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let crate_file = package(
        dir.path(),
        "dz-private-greeting",
        &format!("pub fn greeting() -> &'static str {{\n    \"{GREETING}\"\n}}\n"),
    );
    let registry = SparseRegistry::start(token, &[crate_file]);
    let cargo_home = dir.path().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::fs::write(
        cargo_home.join("config.toml"),
        "[registry]\nglobal-credential-providers = [\"cargo:token\"]\n",
    )
    .unwrap();
    let manifest = "[package]\nname = \"uses-registry\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [dependencies]\ndz-private-greeting = { version = \"0.1\", registry = \"dz-private\" }\n\n\
                    [workspace]\n";
    let config = format!(
        "[registries.dz-private]\nindex = \"{}\"\n",
        registry.index()
    );
    let copy = Fixture::from_files(
        "uses-registry",
        &[
            ("Cargo.toml", manifest),
            (".cargo/config.toml", &config),
            (
                "src/main.rs",
                "fn main() {\n    println!(\"{}\", dz_private_greeting::greeting());\n}\n",
            ),
        ],
    );
    host_cargo(&copy, &cargo_home, token, &["generate-lockfile"]);
    host_cargo(&copy, &cargo_home, token, &["fetch"]);
    Setup {
        dir,
        registry,
        cargo_home,
        copy,
    }
}

impl Setup {
    /// The tool with `args`, from the workspace (Cargo reads `.cargo/config.toml` from the current directory, not
    /// the manifest's), with the test's `CARGO_HOME` and without the token's variable.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = self.copy.command(args);
        command
            .current_dir(&self.copy.root)
            .env("CARGO_HOME", &self.cargo_home)
            .env_remove(VARIABLE);
        command
    }
}

/// `--dry-run` and `list -v` name the secret id, with no token and no engine; a build without a token fails in
/// one line naming the registry and the variable, with nothing written; one with a wrong token (`wrong`) fails in
/// one line naming the registry, Cargo's words in the log only, no image tagged. Their runs.
fn refusals(
    setup: &Setup,
    args: &[&str],
    wrong: &str,
    images: &TestImages,
) -> [crate::common::Run; 2] {
    let expected = format!("{VARIABLE}: the token of the private registry `dz-private`");
    for extra in [args, &["list", "-v"]] {
        let mut listed = setup.command(extra);
        if extra == args {
            listed.arg("--dry-run");
        }
        let listed = run(&mut listed);
        listed.assert_success(&extra.join(" "));
        assert!(listed.stdout.contains(&expected), "{}", listed.stdout);
    }

    let missing = run(&mut setup.command(args));
    let line = missing.assert_one_error(1, "build without a registry token");
    assert!(
        line.contains("`dz-private`") && line.contains(VARIABLE),
        "{line}"
    );
    assert!(
        !setup.copy.dockerfile_path().exists(),
        "a failed build wrote the Dockerfile"
    );

    let mut refused = setup.command(args);
    refused.env(VARIABLE, wrong);
    let refused = run(&mut refused);
    let line = refused.assert_one_error(4, "build with a wrong registry token");
    assert!(
        line.contains("`dz-private`") && line.contains("403"),
        "{line}"
    );
    assert!(
        !refused.stderr.contains("Caused by"),
        "Cargo's screen was shown:\n{}",
        refused.stderr
    );
    let log = std::fs::read_to_string(setup.copy.path("target/dockerize/logs/uses-registry.log"))
        .expect("the build log of the refused build");
    assert!(
        log.contains("got 403"),
        "Cargo's words are in the log:\n{log}"
    );
    assert!(
        docker(&["image", "inspect", &images.tag("uses-registry", "t")]).code != Some(0),
        "a refused build tagged an image"
    );
    assert!(setup
        .registry
        .requests()
        .contains("GET /index/config.json 403"));
    [missing, refused]
}

/// A plain `docker build` of the committed Dockerfile's builder stage, the token from the variable as the header
/// says; no step cached, so its cook fetches from the registry again. Its tag.
fn plain_build(setup: &Setup, images: &TestImages, token: &str) -> String {
    let builder = images.tag("builder", "t");
    let before = setup.registry.requests().matches("GET /dl/").count();
    let mut plain = buildkit_docker();
    plain
        .args(["build", "--no-cache", "--network", "host"])
        .args(["--target", "builder", "-t", &builder, "--secret"])
        .arg(format!("id={VARIABLE},env={VARIABLE}"))
        .arg(&setup.copy.root)
        .env(VARIABLE, token);
    let plain = run(&mut plain);
    plain.assert_success("docker build --target builder --secret id=...,env=...");
    assert!(!plain.stdout.contains(token) && !plain.stderr.contains(token));
    assert!(
        setup.registry.requests().matches("GET /dl/").count() > before,
        "the plain build fetched from the registry"
    );
    builder
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_secrets -- --ignored"]
fn e2e_private_registry_token_reaches_cargo_and_no_layer() {
    let _engine = engine_lock();
    let images = TestImages::new("privreg");
    let token = super::unique("registry-token");
    let wrong = super::unique("wrong-token");
    let setup = setup(&token);
    let template = images.template("t");
    let args = [
        "build",
        "--libc",
        "gnu",
        "--static",
        "--network",
        "host",
        "-t",
        &template,
    ];
    let failed = refusals(&setup, &args, &wrong, &images);

    // The right token, from Cargo's credentials file.
    std::fs::write(
        setup.cargo_home.join("credentials.toml"),
        format!("[registries.dz-private]\ntoken = \"{token}\"\n"),
    )
    .unwrap();
    let metadata = setup.dir.path().join("metadata.json");
    let mut command = setup.command(&args);
    command
        .args(["--message-format", "json", "--metadata-file"])
        .arg(&metadata);
    let built = run(&mut command);
    built.assert_success("build with the registry token from credentials.toml");
    println!(
        "e2e: built from the private registry in {:.1}s",
        built.seconds
    );
    let reference = images.tag("uses-registry", "t");
    assert_eq!(run_image(&reference).trim(), GREETING);
    let requests = setup.registry.requests();
    assert!(
        requests.contains("GET /dl/dz-private-greeting/0.1.0 200"),
        "the builder downloaded the crate:\n{requests}"
    );
    let dockerfile = setup.copy.dockerfile();
    assert_eq!(
        dockerfile
            .matches(&format!("--mount=type=secret,id={VARIABLE},required=true"))
            .count(),
        2,
        "mounted in the cook and the final compile only:\n{dockerfile}"
    );
    assert!(
        dockerfile.contains(&format!("--secret id={VARIABLE},env={VARIABLE}")),
        "the header says how `docker build` gets the token:\n{dockerfile}"
    );
    let values = [token.as_str(), wrong.as_str()];
    for text in failed.iter().flat_map(|r| [&r.stdout, &r.stderr]) {
        assert!(!text.contains(&token) && !text.contains(&wrong));
    }
    super::assert_not_written(&setup.copy, &built, &metadata, &values);
    let builder = plain_build(&setup, &images, &token);
    super::assert_not_in_saved_image(&reference, &values, setup.dir.path());
    super::assert_not_in_saved_image(&builder, &values, setup.dir.path());
}
