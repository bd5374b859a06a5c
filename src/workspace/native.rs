//! What we know about crates that link native (C) libraries.
//!
//! Takes a crate of the resolved dependency graph (its name, its `links` key and the features the resolver
//! enabled on it) and says how it links: dynamically against a system library (so the builder needs the
//! `-dev` package and the runtime image needs the shared library), or statically from sources it bundles.
//! Pure knowledge: no I/O, no Cargo. Unknown crates with a `links` key are assumed to compile their C code
//! themselves (as `ring` or `zstd-sys` do by default) and so to link statically; `list` says so.

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
    if link.krate == "libz-sys" && link.linkage == Linkage::Dynamic && triple.ends_with("-musl") {
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

/// Build-time tools, by the crate that needs them: (crate, packages, crate that makes it unnecessary, what its
/// build script runs). The official `rust:*-slim` images carry gcc and libc6-dev but neither `make` nor perl's
/// full module set (perl-base lacks `FindBin`): vendored OpenSSL runs `perl ./Configure` and `make`, jemalloc its
/// `configure` script and `make`, so both fail there unless the builder installs them (rust-openssl#1292,
/// openssl-src-rs#47).
const TOOLS: &[(&str, &[&str], Option<&str>, &str)] = &[
    ("bindgen", &["clang", "libclang-dev"], None, "libclang"),
    ("cmake", &["cmake"], None, "cmake"),
    (
        "jemalloc-sys",
        &["make"],
        None,
        "jemalloc's configure script and make",
    ),
    (
        "openssl-src",
        &["make", "perl"],
        None,
        "OpenSSL's Configure (perl) and make",
    ),
    (
        "prost-build",
        &["protobuf-compiler"],
        Some("protoc-bin-vendored"),
        "protoc",
    ),
    (
        "tikv-jemalloc-sys",
        &["make"],
        None,
        "jemalloc's configure script and make",
    ),
];

/// The tools a closure's build scripts need, from the names of the crates in it. Sorted.
pub fn build_tools(closure: &[&str]) -> Vec<BuildTool> {
    let mut out: Vec<BuildTool> = TOOLS
        .iter()
        .filter(|(krate, _, vendored, _)| {
            closure.contains(krate) && !vendored.is_some_and(|v| closure.contains(&v))
        })
        .map(|(krate, packages, _, runs)| BuildTool {
            krate: krate.to_string(),
            packages: packages.iter().map(|p| p.to_string()).collect(),
            note: format!("`{krate}` runs {runs} at build time"),
        })
        .collect();
    out.sort();
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

    #[test]
    fn build_tools_follow_the_closure() {
        let tools = build_tools(&["tonic-build", "prost-build", "bindgen"]);
        let names: Vec<_> = tools.iter().map(|t| t.krate.as_str()).collect();
        assert_eq!(names, ["bindgen", "prost-build"]);
        assert!(tools[1].packages.contains(&"protobuf-compiler".to_string()));
        assert!(build_tools(&["prost-build", "protoc-bin-vendored"]).is_empty());
    }

    #[test]
    fn libz_without_static_is_dynamic_on_glibc_and_bundled_on_musl() {
        let link = || classify("libz-sys", Some("z"), &["libc".to_string()], &[]).unwrap();
        let gnu = on_target(link(), "x86_64-unknown-linux-gnu");
        assert_eq!(gnu.linkage, Linkage::Dynamic);
        assert_eq!(gnu.runtime_packages, ["zlib1g"]);
        let musl = on_target(link(), "aarch64-unknown-linux-musl");
        assert_eq!(musl.linkage, Linkage::Static);
        assert!(musl.build_packages.is_empty() && musl.libraries.is_empty());
        assert!(musl.note.contains("bundled zlib"), "{}", musl.note);
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
        let tools = build_tools(&["openssl-sys", "openssl-src", "tikv-jemalloc-sys"]);
        let packages: Vec<_> = tools.iter().map(|t| t.packages.join(" ")).collect();
        assert_eq!(packages, ["make perl", "make"]);
        assert_eq!(
            tools[0].note,
            "`openssl-src` runs OpenSSL's Configure (perl) and make at build time"
        );
        assert!(build_tools(&["openssl-sys", "tikv-jemallocator"]).is_empty());
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
