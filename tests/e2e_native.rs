//! End to end: C and C++ dependencies in static images on `scratch`, built by `cargo-dockerize build` through a
//! real engine (BuildKit).
//!
//! The `native-static` fixture has one small binary per native library (ring, aws-lc, vendored OpenSSL, jemalloc
//! as a musl-only dependency, mimalloc, zstd, bundled SQLite, zlib built from source, and a C++ source compiled
//! with the `cc` crate), all in one workspace so that their dependencies cook once. One test builds every image
//! once and checks each: `file` says the extracted executable is statically linked, the image is `scratch` with
//! the executable and the CA bundle only, it runs as 65532 and prints its line. The C++ binary is the deliberate
//! exception to musl: static glibc (Debian has no C++ compiler for musl), still static, still on `scratch`.
//!
//! `#[ignore]`d, locked and cleaned up as every engine test ([`common::engine_lock`], [`common::TestImages`]).
//! `DOCKERIZE_E2E_NO_CACHE=1` builds with `--no-cache`, for the cold timing (BENCHMARKS.md).
//!
//! Run: `cargo test --test e2e_native -- --ignored --nocapture`.

mod common;

use std::path::Path;
use std::process::Command;

use common::docker::DOCKER_INIT_ENTRIES;
use common::{
    docker_ok, engine_lock, image_entries, inspect_image, run, run_image, Fixture, TestImages,
};
use serde_json::Value;

/// Every binary of the fixture and what its second line must hold.
const BINARIES: &[(&str, &str)] = &[
    ("awslc-digest", "sha256 "),
    ("cpp-greet", "C++ from greetings cargo-dockerize"),
    ("jemalloc-alloc", "allocated 1000 blocks with jemalloc"),
    ("mimalloc-alloc", "allocated 1000 blocks with mimalloc"),
    ("openssl-digest", "sha256 "),
    ("ring-digest", "sha256 "),
    ("sqlite-query", "sum 42 from SQLite 3."),
    ("zlib-roundtrip", "zlib 1024 -> "),
    ("zstd-roundtrip", "zstd 1024 -> "),
];

/// The binary of `reference` copied out of a container of it, into `dir`.
fn extract(reference: &str, binary: &str, dir: &Path) -> std::path::PathBuf {
    let id = docker_ok(&["create", reference]).trim().to_string();
    let out = dir.join(binary);
    let copied = docker_ok(&[
        "cp",
        &format!("{id}:/usr/local/bin/{binary}"),
        out.to_str().expect("a UTF-8 temporary path"),
    ]);
    docker_ok(&["rm", "-f", &id]);
    drop(copied);
    out
}

/// What `file` says of `path`.
fn file_says(path: &Path) -> String {
    let out = run(Command::new("file").arg("--brief").arg(path));
    out.assert_success("file");
    out.stdout.trim().to_string()
}

/// The `list --format json` entry of `binary`.
fn listed<'a>(list: &'a Value, binary: &str) -> &'a Value {
    list["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .find(|b| b["name"] == binary)
        .unwrap_or_else(|| panic!("`list` has no `{binary}`: {list:#}"))
}

/// What the plan says about toolchains, before anything is built: musl with musl-gcc for the C libraries (the
/// jemalloc dependency exists for the musl target only, and counts), static glibc for C++.
fn check_plan(list: &Value, dockerfile: &str) {
    for (binary, _) in BINARIES {
        let entry = listed(list, binary);
        assert_eq!(entry["runtime"], "scratch", "{entry:#}");
        assert_eq!(entry["linkage"], "static", "{entry:#}");
        let expected = if *binary == "cpp-greet" {
            "gnu"
        } else {
            "musl"
        };
        assert_eq!(entry["libc"], expected, "{entry:#}");
        assert!(
            !entry["compilers"]["toolchain"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "`{binary}` compiles C: {entry:#}"
        );
    }
    let jemalloc = &listed(list, "jemalloc-alloc")["compilers"];
    assert_eq!(
        jemalloc["c"],
        serde_json::json!(["tikv-jemalloc-sys"]),
        "{jemalloc:#}"
    );
    let cpp = &listed(list, "cpp-greet")["compilers"];
    assert!(
        cpp["cpp"][0]
            .as_str()
            .unwrap_or_default()
            .contains("cpp(true)"),
        "{cpp:#}"
    );
    let packages = list["builder_packages"].to_string();
    assert!(
        packages.contains("\"musl-tools\"") && packages.contains("\"g++\""),
        "{packages}"
    );
    assert!(
        dockerfile
            .contains("ENV AR_x86_64_unknown_linux_musl=ar CC_x86_64_unknown_linux_musl=musl-gcc"),
        "the musl builder names its C compiler"
    );
    // Comments wrap at the Dockerfile's width: read them as one line.
    assert!(
        dockerfile
            .replace("\n# ", " ")
            .contains("Debian has no C++ compiler for musl"),
        "the fallback says why"
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_native -- --ignored"]
fn every_native_library_builds_static_and_runs_on_scratch() {
    let _engine = engine_lock();
    let images = TestImages::new("native-static");
    let copy = Fixture::copy("native-static");
    let dockerfile = copy.generate(&[]);
    let (_, list) = copy.list_json(&[]);
    check_plan(&list, &dockerfile);

    let template = images.template("t");
    let mut args = vec!["-t", template.as_str()];
    if std::env::var_os("DOCKERIZE_E2E_NO_CACHE").is_some_and(|v| v == "1") {
        args.push("--no-cache");
    }
    let build = copy.build_json(&args);
    println!(
        "e2e: native-static: {} images built in {:.1}s",
        BINARIES.len(),
        build.seconds
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut digests = Vec::new();
    for (binary, second) in BINARIES {
        let tag = images.tag(binary, "t");
        let stdout = run_image(&tag);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some(format!("hello from {binary}").as_str()),
            "{stdout}"
        );
        assert!(
            lines.get(1).is_some_and(|l| l.starts_with(second)),
            "`{binary}` printed {stdout:?}"
        );
        if *second == "sha256 " {
            digests.push(
                lines[1]
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        let says = file_says(&extract(&tag, binary, dir.path()));
        assert!(
            says.contains("statically linked") || says.contains("static-pie linked"),
            "`{binary}` is not static: {says}"
        );
        let config = inspect_image(&tag).expect("the image exists");
        assert_eq!(config["Config"]["User"], "65532:65532", "`{binary}`");
        let files: Vec<String> = image_entries(&tag)
            .into_iter()
            .filter(|e| !e.is_dir && !DOCKER_INIT_ENTRIES.contains(&e.path.as_str()))
            .map(|e| e.path)
            .collect();
        assert_eq!(
            files,
            [
                "etc/ssl/certs/ca-certificates.crt".to_string(),
                format!("usr/local/bin/{binary}")
            ],
            "`{binary}` is on scratch with its executable and the CA bundle only"
        );
    }
    // Three implementations of SHA-256 (ring, aws-lc, OpenSSL) agree on the same input.
    assert_eq!(digests.len(), 3);
    assert!(
        digests.iter().all(|d| d.len() == 64 && *d == digests[0]),
        "{digests:?}"
    );
}
