//! The embedded dependency section, made in a builder image as the generated Dockerfile will make it: the steps
//! [`auditable::embed_steps`] writes, run after a `cargo build` of the `sbom` fixture in `rust:1.95-slim-bookworm`
//! for `linux/amd64` and, cross-compiled, `linux/arm64`; the stripped binaries read back with `rust-audit-info` on
//! the host give the JSON the host computes from its own `cargo tree`.
//!
//! The Dockerfile is the test's own (the tool does not render these steps yet): one builder stage that compiles
//! like the tool's builders (musl with `rust-lld`, `<triplet>-strip` and `<triplet>-objcopy` from Debian's
//! binutils), and a `scratch` stage with `/out`, exported with `--output`, so the test leaves no image behind.
//! `#[ignore]`d (run: `--ignored`), holding [`common::engine_lock`]: an engine must answer.

mod common;

use std::process::Command;

use camino::Utf8PathBuf;
use cargo_dockerize::sbom::auditable;
use cargo_dockerize::workspace::{resolve_crates, CrateQuery};
use common::{buildkit_docker, engine_lock, run, Fixture};

const FEATURES: &str = "alpha/fast";

/// The test's Dockerfile for one target: the build, the section steps, the strip.
fn dockerfile(triple: &str, triplet: &str, debian_arch: &str) -> String {
    let words = format!("--locked --target {triple} -p alpha -p beta --features {FEATURES}");
    let mut steps = vec![
        format!("cargo build --release {words}"),
        "mkdir -p /out/debug".to_string(),
    ];
    for bin in ["alpha", "beta"] {
        steps.push(format!("cp target/{triple}/release/{bin} /out/debug/{bin}"));
    }
    steps.extend(auditable::embed_steps(
        auditable::BUILDER_DIR,
        &words,
        &format!("{triplet}-objcopy"),
        &[("alpha", "/out/debug/alpha"), ("beta", "/out/debug/beta")],
    ));
    for bin in ["alpha", "beta"] {
        steps.push(format!(
            "{triplet}-strip --strip-all -o /out/{bin} /out/debug/{bin}"
        ));
    }
    let linker = format!(
        "CARGO_TARGET_{}_LINKER",
        triple.to_uppercase().replace('-', "_")
    );
    format!(
        "FROM --platform=$BUILDPLATFORM rust:1.95-slim-bookworm AS build\n\
         RUN rustup target add {triple}\n\
         RUN if [ \"$(dpkg --print-architecture)\" != {debian_arch} ]; then apt-get update \
         && apt-get install -y --no-install-recommends binutils-{triplet} && rm -rf /var/lib/apt/lists/*; fi\n\
         ENV {linker}=rust-lld\n\
         WORKDIR /app\n\
         COPY . .\n\
         RUN {}\n\
         FROM scratch\n\
         COPY --from=build /out/ /\n",
        steps.join(" \\\n    && ")
    )
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_sbom -- --ignored"]
fn the_builders_section_reads_back_from_stripped_binaries_on_both_platforms() {
    let _engine = engine_lock();
    let copy = Fixture::copy("sbom");
    let root = Utf8PathBuf::from_path_buf(copy.root.clone()).expect("a UTF-8 path");
    for (platform, triple, triplet, debian_arch, machine) in [
        (
            "linux/amd64",
            "x86_64-unknown-linux-musl",
            "x86_64-linux-gnu",
            "amd64",
            0x3e_u16,
        ),
        (
            "linux/arm64",
            "aarch64-unknown-linux-musl",
            "aarch64-linux-gnu",
            "arm64",
            0xb7,
        ),
    ] {
        copy.write("Dockerfile.e2e", &dockerfile(triple, triplet, debian_arch));
        let out = copy.outside.join(format!("out-{debian_arch}"));
        let mut build = buildkit_docker();
        build
            .args(["build", "--platform", platform, "-f"])
            .arg(copy.path("Dockerfile.e2e"))
            .arg("--output")
            .arg(format!("type=local,dest={}", out.display()))
            .arg(&copy.root);
        run(&mut build).assert_success(&format!("docker build for {platform}"));
        let sets = resolve_crates(
            &root,
            &CrateQuery {
                triple: triple.into(),
                packages: vec!["alpha".into(), "beta".into()],
                features: vec![FEATURES.into()],
                ..Default::default()
            },
        )
        .expect("cargo tree answers");
        for (package, set) in &sets {
            let binary = out.join(package);
            let bytes = std::fs::read(&binary).expect("the binary is exported");
            assert_eq!(
                u16::from_le_bytes([bytes[18], bytes[19]]),
                machine,
                "{package} is built for {platform}"
            );
            let read = run(Command::new("rust-audit-info").arg(&binary));
            read.assert_success(&format!("rust-audit-info {package} ({platform})"));
            assert_eq!(
                read.stdout.trim_end(),
                auditable::version_info(set),
                "{package} on {platform}"
            );
        }
    }
}
