//! The crate list embedded in each binary, in cargo-auditable's format, so that any scanner finds it in any copy
//! of the image: trivy, grype, syft, osv-scanner and `cargo audit bin` read it.
//!
//! The format (cargo-auditable's `auditable-serde`): a JSON `VersionInfo`, `{"packages":[...],"format":1}`, each
//! package with `name`, `version`, `source` (`crates.io`, `registry`, `git`, `local`), `kind` (`build`, omitted
//! for `runtime`), `dependencies` (indices into the list, omitted when none) and `root` (omitted when false),
//! compressed with zlib into a section named `.dep-v0` that is not loaded at run time (ELF flags 0). Format 1
//! says proc macros and what they use are recorded as build-time, which is what Cargo's resolver gives here.
//!
//! How it gets there: written by us, not by cargo-auditable. Measured (BENCHMARKS.md): `cargo install
//! cargo-auditable --locked` in the builder image takes about 68 s on the 2-core machine, in the shared chef
//! layer of every cold build, and its crate list comes from `cargo metadata` (`format` 0/1: "may include more
//! dependencies than are actually used"), so it would disagree with the SBOM, which comes from `cargo tree`.
//! Instead the builder, after its `cargo build`, runs `cargo tree` with the same packages and features (offline:
//! the cook fetched everything), turns it into the JSON with a perl script (`auditable.pl`, perl-base and gzip
//! are in every Debian image), and adds the section to each unstripped binary with binutils' `objcopy`
//! (`<triplet>-objcopy` when cross-compiling, beside the `<triplet>-strip` the builder already uses), before the
//! strip, which keeps it. Computed in the builder rather than on the host so that a plain `docker build` and the
//! CI workflow embed it too; the host computes the same JSON from the same resolve ([`version_info`], compared
//! byte for byte in `tests/sbom.rs`; `tests/e2e_sbom.rs` runs these steps in a builder image for amd64 and arm64).
//!
//! The Dockerfile lines, in the builder's final compile, for a builder of `alpha` and `beta` on
//! `x86_64-unknown-linux-musl` (`<script>` is [`script_lines`] as `perl -e '...'`, [`embed_steps`] writes them):
//!
//! ```text
//! RUN ... cargo build --locked --profile release --target x86_64-unknown-linux-musl -p alpha -p beta ... \
//!     && mkdir -p /tmp/dep-v0 \
//!     && cargo tree --offline --locked -e normal,build --target x86_64-unknown-linux-musl -p alpha -p beta \
//!        --charset ascii --color never -f '{p}|{f}' | perl -e '<script>' /tmp/dep-v0 \
//!     && cp /cache/x86_64-unknown-linux-musl/release/alpha /out/debug/alpha \
//!     && objcopy --add-section .dep-v0=/tmp/dep-v0/alpha.dep-v0 --set-section-flags .dep-v0=readonly /out/debug/alpha \
//!     && strip --strip-all -o /out/alpha /out/debug/alpha \
//!     && ...
//! ```

use serde::Serialize;

use crate::workspace::{CrateSet, CrateSource};

/// The perl script the builder runs (see the module documentation).
const SCRIPT: &str = include_str!("auditable.pl");

/// Where the builder writes each package's section content.
pub const BUILDER_DIR: &str = "/tmp/dep-v0";

/// cargo-auditable's `VersionInfo` of `set`, as `serde_json` writes it (and the builder's script too).
pub fn version_info(set: &CrateSet) -> String {
    #[derive(Serialize)]
    struct VersionInfo<'a> {
        packages: Vec<Package<'a>>,
        format: u32,
    }
    #[derive(Serialize)]
    struct Package<'a> {
        name: &'a str,
        version: &'a str,
        source: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        dependencies: Vec<usize>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        root: bool,
    }
    let packages = set
        .crates
        .iter()
        .map(|c| {
            let mut dependencies: Vec<usize> = c.dependencies.iter().map(|d| d.index).collect();
            dependencies.dedup();
            Package {
                name: &c.name,
                version: &c.version,
                source: match c.source {
                    CrateSource::CratesIo => "crates.io",
                    CrateSource::Registry { .. } => "registry",
                    CrateSource::Git { .. } => "git",
                    CrateSource::Local => "local",
                },
                kind: c.build_only.then_some("build"),
                dependencies,
                root: c.root,
            }
        })
        .collect();
    let info = VersionInfo {
        packages,
        format: 1,
    };
    serde_json::to_string(&info).expect("plain data serialises")
}

/// The script's statements as embedded in the Dockerfile: whole-line comments and blank lines dropped,
/// indentation trimmed (the RUN instruction joins the lines into one).
pub fn script_lines() -> impl Iterator<Item = &'static str> {
    SCRIPT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// `perl -e '<script>' <args>`, single-quoted for `sh` as a RUN instruction wants it.
pub fn perl_command(args: &str) -> String {
    let mut script = String::from("perl -e '");
    for line in script_lines() {
        debug_assert!(!line.contains('\''), "a perl line holds a quote: {line}");
        script.push_str(" \\\n      ");
        script.push_str(line);
    }
    script.push_str("' ");
    script.push_str(args);
    script
}

/// The steps, after a builder's `cargo build` and before its binaries are stripped, that embed each binary's
/// section, written into `dir` (the builder's is [`BUILDER_DIR`]): `resolve_words` are the build's own `--locked`, `--target`, `-p` and feature words (already quoted
/// for `sh`), `objcopy` the builder's, `binaries` each binary's package and unstripped path.
pub fn embed_steps(
    dir: &str,
    resolve_words: &str,
    objcopy: &str,
    binaries: &[(&str, &str)],
) -> Vec<String> {
    let mut steps = vec![
        format!("mkdir -p {dir}"),
        format!(
            "cargo tree --offline {resolve_words} -e normal,build --charset ascii --color never -f \"{{p}}|{{f}}\" | {}",
            perl_command(dir)
        ),
    ];
    steps.extend(binaries.iter().map(|(package, path)| {
        format!(
            "{objcopy} --add-section .dep-v0={dir}/{package}.dep-v0 --set-section-flags .dep-v0=readonly {path}"
        )
    }));
    steps
}
