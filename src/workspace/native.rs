//! What we know about crates that link native (C) libraries.
//!
//! Takes a crate of the resolved dependency graph (its name, its `links` key and the features the resolver
//! enabled on it) and says how it links: dynamically against a system library (so the builder needs the
//! `-dev` package and the runtime image needs the shared library), or statically from sources it bundles.
//! Pure knowledge: no I/O, no Cargo. Unknown crates with a `links` key are assumed to compile their C code
//! themselves (as `ring` or `zstd-sys` do by default) and so to link statically; `list` says so.

use cargo_metadata::semver::Version;

use crate::model::{BuildTool, Linkage, NativeLink};

/// A known `-sys` crate: which feature makes it bundle its sources, and which Debian packages it needs.
struct Known {
    krate: &'static str,
    /// Features (on the crate itself) that switch to a bundled, static build.
    bundling_features: &'static [&'static str],
    /// A crate whose presence in the closure means a vendored build (e.g. `openssl-src`).
    bundling_crate: Option<&'static str>,
    build_packages: &'static [&'static str],
    runtime_packages: &'static [&'static str],
    libraries: &'static [&'static str],
    /// The feature a user can enable to get a static (musl-friendly) build, for the hint.
    vendor_hint: Option<&'static str>,
}

/// Crates that link a system library unless told to bundle it. Sorted by crate name.
const KNOWN: &[Known] = &[
    Known {
        krate: "libsqlite3-sys",
        bundling_features: &[
            "bundled",
            "bundled-sqlcipher",
            "bundled-sqlcipher-vendored-openssl",
        ],
        bundling_crate: None,
        build_packages: &["libsqlite3-dev", "pkg-config"],
        runtime_packages: &["libsqlite3-0"],
        libraries: &["libsqlite3.so.0"],
        vendor_hint: Some("enable rusqlite's `bundled` feature"),
    },
    Known {
        krate: "libz-sys",
        bundling_features: &["static"],
        bundling_crate: None,
        build_packages: &["pkg-config", "zlib1g-dev"],
        runtime_packages: &["zlib1g"],
        libraries: &["libz.so.1"],
        vendor_hint: Some("enable libz-sys's `static` feature"),
    },
    Known {
        krate: "openssl-sys",
        bundling_features: &["vendored"],
        bundling_crate: Some("openssl-src"),
        build_packages: &["libssl-dev", "pkg-config"],
        runtime_packages: &["libssl3"],
        libraries: &["libcrypto.so.3", "libssl.so.3"],
        vendor_hint: Some("enable openssl's `vendored` feature"),
    },
    Known {
        krate: "pq-sys",
        bundling_features: &["bundled"],
        bundling_crate: Some("pq-src"),
        build_packages: &["libpq-dev", "pkg-config"],
        runtime_packages: &["libpq5"],
        libraries: &["libpq.so.5"],
        vendor_hint: Some("enable pq-sys's `bundled` feature"),
    },
    Known {
        krate: "zstd-sys",
        // zstd-sys bundles by default; its `pkg-config` feature is what makes it dynamic.
        bundling_features: &[],
        bundling_crate: None,
        build_packages: &["libzstd-dev", "pkg-config"],
        runtime_packages: &["libzstd1"],
        libraries: &["libzstd.so.1"],
        vendor_hint: Some("disable zstd-sys's `pkg-config` feature"),
    },
];

/// Crates whose `links` key only guards against two versions in one graph: they compile no C code.
const LINKS_MARKERS: &[&str] = &["defmt", "rayon-core", "wasi-common"];

/// Shared libraries the distroless `cc` image ships, so a binary needing only these runs there.
pub const DISTROLESS_CC_LIBRARIES: &[&str] = &["libcrypto.so.3", "libssl.so.3"];

/// Classifies one crate of a closure; `None` when it links nothing native.
///
/// `closure` holds the names of every crate in the same dependency closure, to spot vendoring crates.
pub fn classify(
    krate: &str,
    links: Option<&str>,
    enabled_features: &[String],
    closure: &[&str],
) -> Option<NativeLink> {
    let Some(known) = KNOWN.iter().find(|k| k.krate == krate) else {
        let links = links?;
        if LINKS_MARKERS.contains(&krate) {
            return None;
        }
        return Some(NativeLink {
            krate: krate.to_string(),
            links: Some(links.to_string()),
            linkage: Linkage::Static,
            build_packages: Vec::new(),
            runtime_packages: Vec::new(),
            libraries: Vec::new(),
            note: format!(
                "`{krate}` (links `{links}`) is assumed to compile its C sources statically"
            ),
        });
    };
    let dynamic = if known.krate == "zstd-sys" {
        enabled_features.iter().any(|f| f == "pkg-config")
    } else {
        let by_feature = enabled_features
            .iter()
            .any(|f| known.bundling_features.contains(&f.as_str()));
        let by_crate = known.bundling_crate.is_some_and(|c| closure.contains(&c));
        !(by_feature || by_crate)
    };
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(if dynamic {
        NativeLink {
            krate: krate.to_string(),
            links: links.map(str::to_string),
            linkage: Linkage::Dynamic,
            build_packages: strings(known.build_packages),
            runtime_packages: strings(known.runtime_packages),
            libraries: strings(known.libraries),
            note: format!(
                "`{krate}` links {} dynamically{}",
                known.libraries.join(", "),
                known
                    .vendor_hint
                    .map(|h| format!(" (for a static musl build, {h})"))
                    .unwrap_or_default()
            ),
        }
    } else {
        NativeLink {
            krate: krate.to_string(),
            links: links.map(str::to_string),
            linkage: Linkage::Static,
            build_packages: Vec::new(),
            runtime_packages: Vec::new(),
            libraries: Vec::new(),
            note: format!("`{krate}` builds its bundled sources and links them statically"),
        }
    })
}

/// What a classified crate does on one target triple. `libz-sys` without `static` links the system zlib on glibc,
/// but on a musl target its build script finds none (the `pkg-config` crate refuses to cross-compile from the
/// builder's glibc host, and musl-gcc searches only musl's library directory) and compiles its bundled zlib:
/// measured here, libz-sys 1.1.31 for `x86_64-unknown-linux-musl` prints `rustc-link-lib=static=z` and gives a
/// static-pie executable, with zlib1g-dev installed or not. Found by the public-workspace trial: delta was sent
/// to glibc on Debian slim for a zlib its musl build links statically anyway.
pub fn on_target(link: NativeLink, triple: &str) -> NativeLink {
    if link.krate == "libz-sys"
        && link.linkage == Linkage::Dynamic
        && crate::platform::is_musl(triple)
    {
        return NativeLink {
            linkage: Linkage::Static,
            build_packages: Vec::new(),
            runtime_packages: Vec::new(),
            libraries: Vec::new(),
            note: "`libz-sys` builds its bundled zlib for musl: pkg-config does not cross-compile and musl-gcc \
                   finds no system libz"
                .to_string(),
            ..link
        };
    }
    link
}

/// A tool a crate's build script runs on the builder.
struct Tool {
    krate: &'static str,
    packages: &'static [&'static str],
    /// What it runs, for the note.
    runs: &'static str,
    /// Crates whose presence in the closure means the tool comes from elsewhere: a vendored binary
    /// (`protoc-bin-vendored`), one built from sources by its own build script (`protobuf-src`, whose `cmake`
    /// counts by itself), or a pure-Rust replacement whose descriptors the build script hands over instead
    /// (`protox` with `prost_build::compile_fds` or `tonic_build`'s `compile_fds`).
    providers: &'static [&'static str],
    /// Versions below this (major, minor) bring the tool themselves.
    bundled_before: Option<(u64, u64)>,
}

/// Build-time tools, by the crate that needs them. `bindgen` loads libclang (`runtime`, its default, opens it when
/// the build script runs): Debian's `libclang-dev` is all it needs, with the C headers; no `clang` executable
/// (measured here: bindgen 0.72 on `rust:1.95-slim-bookworm` with `libclang-dev` alone generates bindings for a
/// header including `stdint.h`, `stddef.h` and `stdio.h`; `clang` would add 63.7 MB). Only its presence in the
/// resolve (an optional `bindgen` left off is not there) decides.
const TOOLS: &[Tool] = &[
    Tool {
        krate: "bindgen",
        packages: &["libclang-dev"],
        runs: "libclang",
        providers: &[],
        bundled_before: None,
    },
    Tool {
        krate: "cmake",
        packages: &["cmake"],
        runs: "cmake",
        providers: &[],
        bundled_before: None,
    },
    // The official `rust:*-slim` images carry gcc and libc6-dev but neither `make` nor perl's full module set
    // (perl-base lacks `FindBin`): vendored OpenSSL runs `perl ./Configure` and `make`, jemalloc its `configure`
    // script and `make` (rust-openssl#1292, openssl-src-rs#47). Found by the public-workspace trial.
    Tool {
        krate: "jemalloc-sys",
        packages: &["make"],
        runs: "jemalloc's configure script and make",
        providers: &[],
        bundled_before: None,
    },
    Tool {
        krate: "openssl-src",
        packages: &["make", "perl"],
        runs: "OpenSSL's Configure (perl) and make",
        providers: &[],
        bundled_before: None,
    },
    // prost-build 0.10 built protoc from its vendored sources (with cmake) and earlier ones shipped protoc
    // binaries; from 0.11 it runs `$PROTOC` or the `protoc` on the PATH (tokio-rs/prost#712).
    Tool {
        krate: "prost-build",
        packages: &["protobuf-compiler"],
        runs: "protoc",
        providers: &["protobuf-src", "protoc-bin-vendored", "protox"],
        bundled_before: Some((0, 11)),
    },
    // rust-protobuf 2's `protoc-rust` runs protoc (its pure sibling is `protobuf-codegen-pure`).
    Tool {
        krate: "protoc-rust",
        packages: &["protobuf-compiler"],
        runs: "protoc",
        providers: &["protobuf-src", "protoc-bin-vendored"],
        bundled_before: None,
    },
    Tool {
        krate: "tikv-jemalloc-sys",
        packages: &["make"],
        runs: "jemalloc's configure script and make",
        providers: &[],
        bundled_before: None,
    },
];

/// The tools a closure's build scripts need, from the names and versions of the crates in it. Sorted.
pub fn build_tools(closure: &[(&str, &Version)]) -> Vec<BuildTool> {
    let present = |name: &str| closure.iter().any(|(n, _)| *n == name);
    let mut out: Vec<BuildTool> = TOOLS
        .iter()
        .filter(|tool| {
            let needs_it = closure.iter().any(|(name, version)| {
                *name == tool.krate
                    && !tool.bundled_before.is_some_and(|(major, minor)| {
                        (version.major, version.minor) < (major, minor)
                    })
            });
            needs_it && !tool.providers.iter().any(|p| present(p))
        })
        .map(|tool| BuildTool {
            krate: tool.krate.to_string(),
            packages: tool.packages.iter().map(|p| p.to_string()).collect(),
            note: format!("`{}` runs {} at build time", tool.krate, tool.runs),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Tools a `.cargo/config.toml` asks for: a `clang` linker driver, `lld` or `mold` through `-fuse-ld`, and the
/// git command line (`net.git-fetch-with-cli`). A text scan: the file's meaning for these keys is unambiguous.
pub fn cargo_config_tools(text: &str) -> Vec<BuildTool> {
    let mut tools = Vec::new();
    let mut add = |krate: &str, packages: &[&str], note: &str| {
        tools.push(BuildTool {
            krate: krate.to_string(),
            packages: packages.iter().map(|p| p.to_string()).collect(),
            note: note.to_string(),
        })
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    // `linker = "clang"` under a target table, or `-C linker=clang` inside `rustflags`.
    let linker_is = |l: &&str, name: &str| {
        (l.starts_with("linker") && l.contains(name))
            || l.replace(' ', "").contains(&format!("linker={name}"))
    };
    if lines.iter().any(|l| linker_is(l, "clang")) {
        add(
            ".cargo/config.toml",
            &["clang"],
            "`.cargo/config.toml` links with clang",
        );
    }
    if lines
        .iter()
        .any(|l| l.contains("fuse-ld=lld") || (l.starts_with("linker") && l.contains("lld")))
    {
        add(
            ".cargo/config.toml",
            &["lld"],
            "`.cargo/config.toml` links with lld",
        );
    }
    if lines
        .iter()
        .any(|l| l.contains("fuse-ld=mold") || (l.starts_with("linker") && l.contains("mold")))
    {
        add(
            ".cargo/config.toml",
            &["mold"],
            "`.cargo/config.toml` links with mold",
        );
    }
    if lines
        .iter()
        .any(|l| l.replace(' ', "").contains("git-fetch-with-cli=true"))
    {
        add(
            ".cargo/config.toml",
            &["git"],
            "`.cargo/config.toml` fetches git dependencies with the git command",
        );
    }
    tools
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_linker_inside_rustflags_is_found() {
        let tools = cargo_config_tools(
            "[build]\nrustflags = [\"-C\", \"linker=clang\", \"-C\", \"link-arg=-fuse-ld=lld\"]\n",
        );
        let packages: Vec<&str> = tools
            .iter()
            .flat_map(|t| t.packages.iter().map(String::as_str))
            .collect();
        assert_eq!(packages, ["clang", "lld"]);
    }

    #[test]
    fn cargo_config_linkers_and_git_bring_their_packages() {
        let tools = cargo_config_tools(
            "[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\nrustflags = [\"-C\", \"link-arg=-fuse-ld=lld\"]\n[net]\ngit-fetch-with-cli = true\n",
        );
        let packages: Vec<&str> = tools
            .iter()
            .flat_map(|t| t.packages.iter().map(String::as_str))
            .collect();
        assert_eq!(packages, ["clang", "lld", "git"]);
        assert!(cargo_config_tools("# linker = \"clang\"\n").is_empty());
    }

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn tool_names(closure: &[(&str, &str)]) -> Vec<String> {
        let versions: Vec<(&str, Version)> = closure.iter().map(|(n, t)| (*n, v(t))).collect();
        let closure: Vec<(&str, &Version)> = versions.iter().map(|(n, v)| (*n, v)).collect();
        build_tools(&closure).into_iter().map(|t| t.krate).collect()
    }

    #[test]
    fn build_tools_follow_the_closure() {
        let versions = [v("0.13.0"), v("0.14.1"), v("0.72.0")];
        let closure = [
            ("tonic-build", &versions[0]),
            ("prost-build", &versions[1]),
            ("bindgen", &versions[2]),
        ];
        let tools = build_tools(&closure);
        let names: Vec<_> = tools.iter().map(|t| t.krate.as_str()).collect();
        assert_eq!(names, ["bindgen", "prost-build"]);
        assert_eq!(tools[0].packages, ["libclang-dev"], "no clang executable");
        assert!(tools[1].packages.contains(&"protobuf-compiler".to_string()));
        assert!(tools[1].note.contains("protoc"));
    }

    #[test]
    fn protoc_is_not_needed_where_something_else_provides_it() {
        assert_eq!(tool_names(&[("prost-build", "0.14.1")]), ["prost-build"]);
        for provider in ["protoc-bin-vendored", "protobuf-src", "protox"] {
            let closure = [("prost-build", "0.14.1"), (provider, "3.0.0")];
            assert!(tool_names(&closure).is_empty(), "{provider}");
        }
        // tonic-build with protox: `tonic_build::configure().compile_fds(protox::compile(..)?)`.
        let tonic_protox = [
            ("prost-build", "0.13.5"),
            ("protox", "0.7.2"),
            ("tonic-build", "0.13.1"),
        ];
        assert!(tool_names(&tonic_protox).is_empty());
        // rust-protobuf 2 runs protoc unless a vendored one is there; protox does not feed it.
        assert_eq!(tool_names(&[("protoc-rust", "2.28.0")]), ["protoc-rust"]);
        let vendored = [("protoc-bin-vendored", "3.1.0"), ("protoc-rust", "2.28.0")];
        assert!(tool_names(&vendored).is_empty());
        assert_eq!(
            tool_names(&[("protox", "0.7.2"), ("protoc-rust", "2.28.0")]),
            ["protoc-rust"]
        );
    }

    #[test]
    fn prost_build_before_0_11_brings_its_own_protoc() {
        assert!(tool_names(&[("prost-build", "0.9.0")]).is_empty());
        // 0.10 builds protoc from sources with cmake: the `cmake` crate of its closure says so.
        assert_eq!(
            tool_names(&[("cmake", "0.1.48"), ("prost-build", "0.10.4")]),
            ["cmake"]
        );
        assert_eq!(tool_names(&[("prost-build", "0.11.0")]), ["prost-build"]);
    }

    #[test]
    fn tools_table_is_sorted() {
        let names: Vec<_> = TOOLS.iter().map(|t| t.krate).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn libz_without_static_is_dynamic_on_glibc_and_bundled_on_musl() {
        let link = || classify("libz-sys", Some("z"), &["libc".to_string()], &[]).unwrap();
        let gnu = on_target(link(), "x86_64-unknown-linux-gnu");
        assert_eq!(gnu.linkage, Linkage::Dynamic);
        assert_eq!(gnu.runtime_packages, ["zlib1g"]);
        // Every musl triple, `-musleabihf` included (once missed by a test of the name's ending).
        use crate::platform::{LibcKind, Triple};
        for musl in Triple::all().filter(|t| t.libc() == LibcKind::Musl) {
            let musl = on_target(link(), musl.name());
            assert_eq!(musl.linkage, Linkage::Static);
            assert!(musl.build_packages.is_empty() && musl.libraries.is_empty());
            assert!(musl.note.contains("bundled zlib"), "{}", musl.note);
        }
        // Other system libraries stay dynamic on musl: openssl-sys would find glibc's headers and fail to link.
        let ssl = classify("openssl-sys", Some("openssl"), &[], &[]).unwrap();
        assert_eq!(
            on_target(ssl, "x86_64-unknown-linux-musl").linkage,
            Linkage::Dynamic
        );
    }

    #[test]
    fn vendored_openssl_and_jemalloc_bring_make_and_perl() {
        // Found by the public-workspace trial: rathole vendors OpenSSL on musl, fd and oha link jemalloc; the
        // official rust:*-slim images have neither make nor perl's FindBin.
        let version = v("1.0.0");
        let closure = [
            ("openssl-sys", &version),
            ("openssl-src", &version),
            ("tikv-jemalloc-sys", &version),
        ];
        let tools = build_tools(&closure);
        let packages: Vec<_> = tools.iter().map(|t| t.packages.join(" ")).collect();
        assert_eq!(packages, ["make perl", "make"]);
        assert_eq!(
            tools[0].note,
            "`openssl-src` runs OpenSSL's Configure (perl) and make at build time"
        );
        assert!(tool_names(&[("openssl-sys", "0.9.0"), ("tikv-jemallocator", "0.6.0")]).is_empty());
    }

    use super::*;

    #[test]
    fn openssl_without_vendoring_is_dynamic() {
        let link = classify(
            "openssl-sys",
            Some("openssl"),
            &[],
            &["openssl", "openssl-sys"],
        )
        .unwrap();
        assert_eq!(link.linkage, Linkage::Dynamic);
        assert!(link.build_packages.contains(&"libssl-dev".to_string()));
        assert!(link.note.contains("vendored"));
    }

    #[test]
    fn openssl_with_openssl_src_in_closure_is_static() {
        let link = classify(
            "openssl-sys",
            Some("openssl"),
            &[],
            &["openssl-src", "openssl-sys"],
        )
        .unwrap();
        assert_eq!(link.linkage, Linkage::Static);
        assert!(link.runtime_packages.is_empty());
    }

    #[test]
    fn sqlite_bundled_feature_is_static() {
        let features = vec!["bundled".to_string()];
        let link = classify("libsqlite3-sys", Some("sqlite3"), &features, &[]).unwrap();
        assert_eq!(link.linkage, Linkage::Static);
    }

    #[test]
    fn zstd_is_static_unless_pkg_config() {
        assert_eq!(
            classify("zstd-sys", Some("zstd"), &[], &[])
                .unwrap()
                .linkage,
            Linkage::Static
        );
        let features = vec!["pkg-config".to_string()];
        assert_eq!(
            classify("zstd-sys", Some("zstd"), &features, &[])
                .unwrap()
                .linkage,
            Linkage::Dynamic
        );
    }

    #[test]
    fn unknown_links_key_is_assumed_static_and_plain_crates_are_ignored() {
        let ring = classify("ring", Some("ring_core_0_17"), &[], &[]).unwrap();
        assert_eq!(ring.linkage, Linkage::Static);
        assert!(classify("itoa", None, &[], &[]).is_none());
    }

    #[test]
    fn known_table_is_sorted() {
        let names: Vec<_> = KNOWN.iter().map(|k| k.krate).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
