//! The embedded dependency section, made by the tool's own builders: the `sbom` fixture's images built with
//! `cargo dockerize build` for `linux/amd64` and, cross-compiled, `linux/arm64`; the binary copied out of each
//! built image (`docker create` + `docker cp`, nothing runs) is read back with `rust-audit-info` on the host and
//! must give the JSON the host computes for that build: the crates of the plan's list of builds
//! (`sbom::crate_queries`, resolved with the host's own `cargo tree`), per platform. With `--no-auditable` the
//! binary has no section.
//!
//! `#[ignore]`d (run: `--ignored`), holding [`common::engine_lock`]: an engine must answer.

mod common;

use std::process::Command;

use camino::Utf8PathBuf;
use cargo_dockerize::sbom;
use cargo_dockerize::sbom::auditable;
use cargo_dockerize::workspace::resolve_crates;
use common::{docker, docker_ok, engine_lock, library, run, Fixture, TestImages};

const FEATURES: &str = "alpha/fast";

/// The binary at `path` in the image `reference`, copied to `to` (`docker create` + `docker cp`).
fn copy_out(reference: &str, path: &str, to: &std::path::Path) {
    let id = docker_ok(&["create", reference, "x"]).trim().to_string();
    let copied = docker(&["cp", &format!("{id}:{path}"), to.to_str().expect("UTF-8")]);
    let _ = docker(&["rm", "-f", &id]);
    copied.assert_success(&format!("docker cp {reference}:{path}"));
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_sbom -- --ignored"]
fn the_built_images_binaries_carry_what_their_builds_compiled() {
    let _engine = engine_lock();
    let images = TestImages::new("embed");
    let copy = Fixture::copy("sbom");
    let flags = [
        "--features",
        FEATURES,
        "--platform",
        "linux/amd64,linux/arm64",
    ];
    let template = images.template("1");
    let mut args = vec!["build", "-t", &template];
    args.extend(flags);
    copy.run(&args).assert_code(0, "cargo dockerize build");
    let plan = library::plan_fixture(&copy.manifest(), &library::settings(&flags));
    let root = Utf8PathBuf::from_path_buf(copy.root.clone()).expect("a UTF-8 path");
    let mut checked = Vec::new();
    for build in sbom::crate_queries(&plan) {
        let Some((stage, arch)) = build.build.split_once('@') else {
            panic!(
                "a build of two platforms names its platform: {}",
                build.build
            )
        };
        if stage.ends_with("-debug") {
            continue;
        }
        let sets = resolve_crates(&root, &build.query).expect("cargo tree answers");
        let binary = copy.outside.join(format!("{stage}-{arch}"));
        copy_out(
            &images.tag(stage, &format!("1-{arch}")),
            &format!("/usr/local/bin/{stage}"),
            &binary,
        );
        let read = run(Command::new("rust-audit-info").arg(&binary));
        read.assert_success(&format!("rust-audit-info {}", build.build));
        assert_eq!(
            read.stdout.trim_end(),
            auditable::version_info(&sets[&build.package]),
            "{}",
            build.build
        );
        checked.push(build.build);
    }
    assert_eq!(
        checked,
        ["alpha@amd64", "alpha@arm64", "beta@amd64", "beta@arm64"]
    );

    // Turned off: the same build without the section.
    let template = images.template("off");
    copy.run(&[
        "build",
        "--no-auditable",
        "-t",
        &template,
        "--features",
        FEATURES,
    ])
    .assert_code(0, "cargo dockerize build --no-auditable");
    let binary = copy.outside.join("alpha-off");
    copy_out(&images.tag("alpha", "off"), "/usr/local/bin/alpha", &binary);
    let read = run(Command::new("rust-audit-info").arg(&binary));
    assert_ne!(
        read.code,
        Some(0),
        "no section with --no-auditable: {}",
        read.stdout
    );
}
