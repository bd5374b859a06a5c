//! The configuration fixtures built through `cargo dockerize build` (BuildKit) on a real engine, run and
//! inspected; and the cache test: metadata edits and version bumps leave the dependency layer cached.

use super::*;
use crate::common::steps::parse_step;
use crate::common::{engine_lock, image_entries, inspect_image, run_image, BuildJson, TestImages};

/// The dependency-build steps of `stage`: its `RUN cargo build` steps before its `COPY . .`.
fn dependency_steps(build: &BuildJson, stage: &str) -> Vec<String> {
    let mut names = build.steps("step-started");
    names.extend(build.steps("step-cached"));
    let ours: Vec<(u32, &str, &String)> = names
        .iter()
        .filter_map(|n| {
            parse_step(n)
                .filter(|(s, _, _)| *s == stage)
                .map(|(_, i, ins)| (i, ins, n))
        })
        .collect();
    let copy = ours
        .iter()
        .filter(|(_, ins, _)| *ins == "COPY . .")
        .map(|(i, _, _)| *i)
        .min()
        .unwrap_or_else(|| panic!("no `[{stage} n/m] COPY . .` step in {names:#?}"));
    let mut deps: Vec<String> = ours
        .iter()
        .filter(|(i, ins, _)| *i < copy && ins.starts_with("RUN cargo build"))
        .map(|(_, _, n)| n.to_string())
        .collect();
    deps.sort();
    deps.dedup();
    assert!(
        !deps.is_empty(),
        "no dependency step before `COPY . .` in {names:#?}"
    );
    deps
}

/// Every dependency step of the builder was `step-cached` and none ran.
fn assert_dependencies_cached(build: &BuildJson, what: &str) {
    let deps = dependency_steps(build, "builder");
    let started = build.steps("step-started");
    let cached = build.steps("step-cached");
    for step in &deps {
        assert!(
            !started.contains(step) && cached.contains(step),
            "{what}: the dependency step ran instead of being cached: {step}\n--- its log\n{}",
            build.logs(step).join("\n")
        );
    }
    println!(
        "e2e: {what}: dependency step cached, build {:.1}s",
        build.seconds
    );
}

/// The image's config after the build: user non-root.
fn inspected_config(reference: &str) -> Value {
    let image = inspect_image(reference).unwrap_or_else(|| panic!("no image `{reference}`"));
    let config = image["Config"].clone();
    assert_eq!(
        config["User"], NONROOT,
        "`{reference}` runs as non-root: {config}"
    );
    config
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_config -- --ignored"]
fn e2e_native_sqlite_runs_on_debian_slim() {
    let _engine = engine_lock();
    let images = TestImages::new("sqlite");
    let copy = Fixture::copy("native-sqlite");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "-t", &template]);
    println!("e2e: native-sqlite --libc gnu: {:.1}s", build.seconds);
    let reference = images.tag("native-sqlite", "t");
    let out = run_image(&reference);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("hello from native-sqlite"), "{out}");
    let version = lines.next().unwrap_or_default();
    assert!(
        version.starts_with("SQLite 3."),
        "the version from sqlite_version(): {out}"
    );
    inspected_config(&reference);
    // The runtime has the shared library from Debian and not the -dev package.
    let packages = crate::common::docker::run_container(&[
        "--network",
        "none",
        "--entrypoint",
        "dpkg-query",
        &reference,
        "-W",
        "-f",
        "${Package} ${db:Status-Status}\n",
    ]);
    assert!(
        packages.lines().any(|l| l == "libsqlite3-0 installed"),
        "{packages}"
    );
    assert!(!packages.contains("libsqlite3-dev"), "{packages}");
    println!("e2e: native-sqlite printed {out:?}");
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_config -- --ignored"]
fn e2e_assets_are_in_the_image_owned_by_the_user() {
    let _engine = engine_lock();
    let images = TestImages::new("assets");
    let copy = Fixture::copy("assets");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "--static", "-t", &template]);
    println!("e2e: assets --libc gnu --static: {:.1}s", build.seconds);
    let reference = images.tag("assets", "t");
    let out = run_image(&reference);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "hello from assets",
            "config: name=assets-demo",
            "static: served from static",
            "APP_ENV=production",
        ],
        "{out}"
    );
    let config = inspected_config(&reference);
    assert_eq!(config["WorkingDir"], "/app", "{config}");
    assert!(
        config["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("APP_ENV=production")),
        "{config}"
    );
    assert_eq!(config["ExposedPorts"], json!({"8080/tcp": {}}), "{config}");
    assert_eq!(config["Labels"]["org.example.team"], "infra", "{config}");
    assert_eq!(
        config["Entrypoint"],
        json!(["/usr/local/bin/assets"]),
        "{config}"
    );

    let entries = image_entries(&reference);
    // The working directory too, so the binary can write there.
    for path in [
        "app",
        "app/configuration",
        "app/configuration/base.toml",
        "app/static",
        "app/static/greeting.txt",
    ] {
        let entry = entries
            .iter()
            .find(|e| e.path == path)
            .unwrap_or_else(|| panic!("no `{path}` in the image: {entries:#?}"));
        assert_eq!(
            (entry.uid, entry.gid),
            (65532, 65532),
            "`{path}` is owned by the user: {entry:?}"
        );
    }
    // Only the configured assets: nothing else of the build context.
    for e in entries
        .iter()
        .filter(|e| e.path.starts_with("app/") && !e.is_dir)
    {
        assert!(
            e.path.starts_with("app/configuration/") || e.path.starts_with("app/static/"),
            "unexpected file from the context: {e:?}"
        );
    }
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_config -- --ignored"]
fn e2e_protoc_builds_with_prost_build() {
    let _engine = engine_lock();
    let images = TestImages::new("protoc");
    let copy = Fixture::copy("protoc");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "--static", "-t", &template]);
    println!("e2e: protoc --libc gnu --static: {:.1}s", build.seconds);
    let reference = images.tag("protoc", "t");
    let out = run_image(&reference);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["hello from protoc", "greeting: built by protoc (count 3)"],
        "{out}"
    );
    let config = inspected_config(&reference);
    assert_eq!(config["Entrypoint"], json!(["/usr/local/bin/protoc"]));
}

/// `dev-guesses` on the default path: prost-build fed by protox builds without `protoc`, the build script links
/// the system zlib on the builder, and the binary (which links neither the tests' nor the build script's zlib)
/// runs on `scratch`; the `xtask` development tool gets no image.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_config -- --ignored"]
fn e2e_dev_guesses_builds_without_protoc_and_runs_on_scratch() {
    let _engine = engine_lock();
    let images = TestImages::new("guesses");
    let copy = Fixture::copy("dev-guesses");
    let template = images.template("t");
    let build = copy.build_json(&["-t", &template]);
    println!("e2e: dev-guesses: {:.1}s", build.seconds);
    let reference = images.tag("rpc", "t");
    let out = run_image(&reference);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "hello from rpc",
            "greeting: compiled by protox (count 3), deflated, build script zlib: 30 bytes"
        ],
        "{out}"
    );
    inspected_config(&reference);
    // scratch: the executable and the CA bundle, no shared library.
    let files: Vec<String> = image_entries(&reference)
        .into_iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.path)
        // What `docker create` adds: `.dockerenv`, `/dev` and `/etc` entries (the CA bundle is under `/etc`).
        .filter(|p| !p.starts_with("etc/") && !p.starts_with("dev/") && p != ".dockerenv")
        .collect();
    assert_eq!(files, ["usr/local/bin/rpc"], "{files:?}");
    assert_eq!(
        images.existing(),
        std::slice::from_ref(&reference),
        "one image: xtask is left out"
    );
}

/// The cache test on the `workspace` fixture: editing only `[package.metadata.dockerize]` and a
/// `description`, then bumping every local crate's version, must leave the dependency layer cached.
///
/// The baseline build's context carries a file unique to this run, so its planner always runs and the
/// dependency layer it ends on is looked up by the recipe's content, exactly as in the rebuilds: the test
/// does not depend on what the engine's cache already holds from other suites or earlier runs.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_config -- --ignored"]
fn e2e_metadata_edits_and_version_bumps_keep_the_dependency_layer_cached() {
    let _engine = engine_lock();
    let images = TestImages::new("cache");
    let copy = Fixture::copy("workspace");
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    copy.write("RUN_ID", &run_id);
    let template = images.template("{version}");
    let args = ["--libc", "gnu", "--static", "-t", template.as_str()];

    let first = copy.build_json(&args);
    println!("e2e: workspace baseline: {:.1}s", first.seconds);
    dependency_steps(&first, "builder");

    // 1. Only the `dockerize` table of one member and its description.
    copy.append_to(
        "crates/api/Cargo.toml",
        "\n[package.metadata.dockerize]\nlabels = { a = \"b\" }\n",
    );
    copy.replace_in(
        "crates/api/Cargo.toml",
        "description = \"API server binary of the workspace fixture\"",
        "description = \"API server binary of the workspace fixture, edited\"",
    );
    let second = copy.build_json(&args);
    assert_dependencies_cached(&second, "metadata and description edit");
    let labels = &inspected_config(&images.tag("api", "0.3.0"))["Labels"];
    assert_eq!(labels["a"], "b", "the edit reached the image: {labels}");
    assert_eq!(
        labels["org.opencontainers.image.description"],
        "API server binary of the workspace fixture, edited"
    );

    // 2. Every local crate's version: the workspace version and the path+version dependency on `common`.
    copy.replace_in(
        "Cargo.toml",
        "version = \"0.3.0\"\nedition",
        "version = \"0.4.0\"\nedition",
    );
    copy.replace_in(
        "Cargo.toml",
        "common = { path = \"crates/common\", version = \"0.3.0\" }",
        "common = { path = \"crates/common\", version = \"0.4.0\" }",
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    common::run(
        std::process::Command::new(cargo)
            .args(["update", "--workspace", "--offline"])
            .current_dir(&copy.root),
    )
    .assert_success("cargo update --workspace --offline");
    let lock = copy.read("Cargo.lock");
    assert_eq!(lock.matches("version = \"0.4.0\"").count(), 4, "{lock}");
    assert!(!lock.contains("version = \"0.3.0\""), "{lock}");
    let third = copy.build_json(&args);
    assert_dependencies_cached(&third, "version bump");
    for bin in ["api", "dz-cli", "worker"] {
        let labels = &inspected_config(&images.tag(bin, "0.4.0"))["Labels"];
        assert_eq!(
            labels["org.opencontainers.image.version"], "0.4.0",
            "{bin}: {labels}"
        );
        let out = run_image(&images.tag(bin, "0.4.0"));
        assert!(
            out.starts_with(&format!("hello from {bin}")),
            "{bin}: {out}"
        );
    }
}
