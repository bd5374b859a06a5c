//! What each key of a `dockerize` table means, for people: the configuration reference of the user guide
//! (`docs/src/reference/configuration.md`) is rendered from [`KEY_DOCS`] by [`reference`], and a test fails when
//! the committed page differs. A unit test holds [`KEY_DOCS`] to exactly the keys serde accepts ([`super::keys`]),
//! so a key cannot be added, renamed or removed without its documentation following. Pure: no I/O.

use std::fmt::Write as _;

/// The tables a key may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// `[workspace.metadata.dockerize]` only: the builder, the Dockerfile and the registry are shared.
    Workspace,
    /// `[package.metadata.dockerize]` only.
    Package,
    /// Every table: workspace, package and `bin.<name>`, the later overriding the earlier.
    Any,
}

impl Tables {
    fn describe(self) -> &'static str {
        match self {
            Self::Workspace => "workspace table only",
            Self::Package => "package table only",
            Self::Any => "workspace, package, `bin.<name>`",
        }
    }
}

/// One key of a `dockerize` table, as the reference shows it.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// The key as written in TOML.
    pub key: &'static str,
    /// Its TOML type.
    pub ty: &'static str,
    pub tables: Tables,
    /// What is used when no table sets it.
    pub default: &'static str,
    /// What it does (Markdown).
    pub doc: &'static str,
    /// An example line of TOML.
    pub example: &'static str,
}

/// Every key a table may hold, sorted by key: the same list as [`super::keys`].
pub const KEY_DOCS: &[KeyDoc] = &[
    KeyDoc {
        key: "assets",
        ty: "array of strings or `{ source, dest }` tables",
        tables: Tables::Any,
        default: "none",
        doc: "Files and directories copied into the image, relative to the manifest that names them. A string is \
              copied to `<workdir>/<name>` (`/app/<name>` without a `workdir`, which then becomes `/app`); a table \
              to `dest`, an absolute path in the image.",
        example: r#"assets = ["configuration", { source = "static", dest = "/app/static" }]"#,
    },
    KeyDoc {
        key: "auditable",
        ty: "boolean",
        tables: Tables::Workspace,
        default: "`true`",
        doc: "Whether each binary carries its crate list in cargo-auditable's `.dep-v0` section, which trivy, \
              grype, syft, osv-scanner and `cargo audit bin` read from any copy of the image. `false` leaves it \
              out, as `--no-auditable`.",
        example: "auditable = false",
    },
    KeyDoc {
        key: "bin",
        ty: "table of tables",
        tables: Tables::Package,
        default: "none",
        doc: "Per-binary tables, `[package.metadata.dockerize.bin.<name>]`, holding any key a package table \
              may hold but `bin`; they override the package's values for that binary.",
        example: "[package.metadata.dockerize.bin.migrate]",
    },
    KeyDoc {
        key: "build-env",
        ty: "table of strings",
        tables: Tables::Workspace,
        default: "none",
        doc: "`ENV` of the builder stages, set before the dependency step, so build scripts and proc macros see \
              it (`SQLX_OFFLINE`, `PROTOC`). Changing it recooks the dependencies; it never reaches a runtime \
              image. A key that looks like a secret (`*_TOKEN`, `*_SECRET`, `*_KEY`, `*PASSWORD*`) is refused: \
              use `build-secrets`.",
        example: r#"build-env = { SQLX_OFFLINE = "true" }"#,
    },
    KeyDoc {
        key: "build-packages",
        ty: "array of strings",
        tables: Tables::Any,
        default: "the packages the dependency graph needs",
        doc: "Debian packages the builder installs besides the detected ones.",
        example: r#"build-packages = ["protobuf-compiler"]"#,
    },
    KeyDoc {
        key: "build-secrets",
        ty: "array of strings or `{ name, env }` / `{ name, file }` tables",
        tables: Tables::Workspace,
        default: "none",
        doc: "Secrets the dependency step and the final compile read, mounted by BuildKit \
              (`RUN --mount=type=secret`) and exported as the variable `<name>` in those steps only: never \
              `ENV`, `ARG`, a layer or a log. A name is read from the variable of that name, `env` from another \
              variable, `file` from a file (relative to the workspace root).",
        example: r#"build-secrets = ["DATABASE_URL", { name = "API_KEY", file = "/run/keys/api" }]"#,
    },
    KeyDoc {
        key: "cmd",
        ty: "array of strings",
        tables: Tables::Any,
        default: "none",
        doc: "The image's `CMD`: arguments after the entrypoint.",
        example: r#"cmd = ["--port", "8080"]"#,
    },
    KeyDoc {
        key: "dockerfile",
        ty: "string",
        tables: Tables::Workspace,
        default: "`Dockerfile`",
        doc: "Where the Dockerfile goes, relative to the workspace root and inside it; another name than \
              `Dockerfile` gets its own `<path>.dockerignore`. `--dockerfile` overrides it.",
        example: r#"dockerfile = "docker/Dockerfile.dockerize""#,
    },
    KeyDoc {
        key: "entrypoint",
        ty: "array of strings",
        tables: Tables::Any,
        default: "the binary",
        doc: "Replaces the binary as the JSON `ENTRYPOINT`; it must name a program.",
        example: r#"entrypoint = ["/usr/local/bin/api", "serve"]"#,
    },
    KeyDoc {
        key: "env",
        ty: "table of strings",
        tables: Tables::Any,
        default: "none",
        doc: "`ENV` of the runtime image. Keys merge across tables (a later table's value wins for a key).",
        example: r#"env = { APP_ENVIRONMENT = "production" }"#,
    },
    KeyDoc {
        key: "expose",
        ty: "array of port numbers or `\"<port>/tcp\"`, `\"<port>/udp\"` strings",
        tables: Tables::Any,
        default: "none",
        doc: "`EXPOSE` lines of the runtime image.",
        example: r#"expose = [8080, "9090/udp"]"#,
    },
    KeyDoc {
        key: "features",
        ty: "array of strings",
        tables: Tables::Any,
        default: "the package's default features",
        doc: "Features of this package the image is built with (`--features` adds to them).",
        example: r#"features = ["metrics"]"#,
    },
    KeyDoc {
        key: "image",
        ty: "string",
        tables: Tables::Any,
        default: "the binary's name",
        doc: "The image name the tag templates' `{bin}` is replaced by.",
        example: r#"image = "acme-api""#,
    },
    KeyDoc {
        key: "labels",
        ty: "table of strings",
        tables: Tables::Any,
        default: "OCI labels from Cargo metadata",
        doc: "`LABEL`s of the runtime image, added to the OCI labels taken from the package's metadata. Keys \
              merge across tables.",
        example: r#"labels = { "org.opencontainers.image.vendor" = "Acme" }"#,
    },
    KeyDoc {
        key: "libc",
        ty: "`\"auto\"`, `\"musl\"` or `\"gnu\"`",
        tables: Tables::Any,
        default: "`auto`",
        doc: "The C library: `auto` builds static musl unless a dependency links a system library dynamically \
              or compiles C++ (then glibc). `--libc` overrides it.",
        example: r#"libc = "gnu""#,
    },
    KeyDoc {
        key: "platforms",
        ty: "array of strings",
        tables: Tables::Workspace,
        default: "`[\"linux/amd64\"]`",
        doc: "The images' platforms, each cross-compiled on the build machine: `linux/amd64`, `linux/arm64`, \
              `linux/arm/v7`, `linux/ppc64le`, `linux/s390x`, `linux/riscv64`. `--platform` overrides it.",
        example: r#"platforms = ["linux/amd64", "linux/arm64"]"#,
    },
    KeyDoc {
        key: "profile",
        ty: "string",
        tables: Tables::Any,
        default: "`release`",
        doc: "The Cargo profile the binary is built with. `--profile` overrides it.",
        example: r#"profile = "release""#,
    },
    KeyDoc {
        key: "provenance",
        ty: "boolean",
        tables: Tables::Workspace,
        default: "`true`",
        doc: "Whether `--push` attaches each image's SLSA v1 provenance (an in-toto statement: the Dockerfile, the \
              target, the platform, the build arguments, build secrets by name only, the git commit, `Cargo.lock`, \
              the base images, this tool's and the engine's versions, the times) as an OCI 1.1 referrer. \
              `--provenance` / `--no-provenance` override it.",
        example: "provenance = false",
    },
    KeyDoc {
        key: "registry",
        ty: "string",
        tables: Tables::Workspace,
        default: "none (in the generated CI: the CI's own registry)",
        doc: "The prefix of every tag that names no registry, `host[:port][/namespace]`, as `--registry`.",
        example: r#"registry = "ghcr.io/acme""#,
    },
    KeyDoc {
        key: "runtime",
        ty: "`\"auto\"`, `\"scratch\"`, `\"distroless\"`, `\"debian-slim\"` or an image reference",
        tables: Tables::Any,
        default: "`auto`",
        doc: "The runtime base: `auto` is `scratch` for a static binary, distroless for dynamic glibc, Debian \
              slim with `runtime-packages`. `--runtime` overrides it.",
        example: r#"runtime = "distroless""#,
    },
    KeyDoc {
        key: "runtime-packages",
        ty: "array of strings",
        tables: Tables::Any,
        default: "the libraries the binary links",
        doc: "Debian packages the runtime image installs; the binary moves to a Debian slim runtime.",
        example: r#"runtime-packages = ["libsqlite3-0"]"#,
    },
    KeyDoc {
        key: "rust-version",
        ty: "string",
        tables: Tables::Workspace,
        default: "a `rust-toolchain(.toml)`, else the floating `rust:1`",
        doc: "The builder's Rust release, `1.95` or `1.95.0`. A `rust-toolchain.toml` at the root wins; for \
              nightly, use one.",
        example: r#"rust-version = "1.95""#,
    },
    KeyDoc {
        key: "sbom",
        ty: "array of `\"spdx\"`, `\"cyclonedx\"`",
        tables: Tables::Workspace,
        default: "`[\"spdx\", \"cyclonedx\"]`",
        doc: "The SBOM formats `--push` attaches to each pushed image and platform as OCI 1.1 referrers (SPDX 2.3, \
              CycloneDX 1.6: the crates Cargo resolved for the binary's target and features); `[]` attaches none. \
              `--sbom spdx|cyclonedx|none` (or a comma-separated list) overrides it.",
        example: r#"sbom = ["spdx"]"#,
    },
    KeyDoc {
        key: "skip",
        ty: "boolean",
        tables: Tables::Any,
        default: "`false` (`true` for `xtask` development tools)",
        doc: "Leave this binary (or every binary of the table) out of the Dockerfile.",
        example: "skip = true",
    },
    KeyDoc {
        key: "static",
        ty: "boolean",
        tables: Tables::Any,
        default: "`false`",
        doc: "Link glibc statically (`+crt-static`), so glibc binaries run on `scratch`. `--static` sets it.",
        example: "static = true",
    },
    KeyDoc {
        key: "tags",
        ty: "array of strings",
        tables: Tables::Any,
        default: "`[\"{bin}:{version}\", \"{bin}:latest\"]`",
        doc: "Tag templates with `{bin}`, `{package}`, `{version}`, `{git_sha}`; `-t` overrides them.",
        example: r#"tags = ["{bin}:{version}", "{bin}:{git_sha}"]"#,
    },
    KeyDoc {
        key: "user",
        ty: "string",
        tables: Tables::Any,
        default: "`65532:65532`",
        doc: "The `USER` the image runs as: a name or uid, optionally `:group` (each `A-Za-z0-9_` then \
              `A-Za-z0-9_.-`); a name must exist in the base image (`scratch` has none).",
        example: r#"user = "65532:65532""#,
    },
    KeyDoc {
        key: "workdir",
        ty: "string",
        tables: Tables::Any,
        default: "none; `/app` when the image has `assets`",
        doc: "The image's `WORKDIR`, an absolute path; string `assets` are copied under it (under `/app` when it \
              is not set).",
        example: r#"workdir = "/app""#,
    },
];

/// The configuration reference page, Markdown, rendered from [`KEY_DOCS`].
pub fn reference() -> String {
    let mut page = String::from(
        "<!-- Generated from src/config/keys.rs by `UPDATE_GUIDE=1 cargo test --test guide`: edit that file, \
         not this one. -->\n\n# Configuration reference\n\n\
         Anything the tool cannot guess goes in `Cargo.toml`: `[workspace.metadata.dockerize]`, overridden by \
         `[package.metadata.dockerize]`, overridden per binary by `[package.metadata.dockerize.bin.<name>]`, \
         overridden by flags. A later value replaces an earlier one, except `env` and `labels`, whose keys \
         merge. An unknown key is an error naming the manifest, the table and the closest valid key; a wrong \
         type names the expected type. `cargo dockerize config` shows every binary's effective settings and \
         where each came from.\n\n| key | type | tables | default |\n|---|---|---|---|\n",
    );
    for key in KEY_DOCS {
        let _ = writeln!(
            page,
            "| [`{0}`](#{0}) | {1} | {2} | {3} |",
            key.key,
            key.ty,
            key.tables.describe(),
            key.default
        );
    }
    for key in KEY_DOCS {
        let _ = write!(
            page,
            "\n## `{}`\n\n{}\n\n```toml\n{}\n```\n",
            key.key, key.doc, key.example
        );
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_serde_accepts_is_documented_once_in_order() {
        let documented: Vec<&str> = KEY_DOCS.iter().map(|k| k.key).collect();
        assert_eq!(documented, super::super::keys());
    }

    /// Each example parses as the key's table (so the page shows nothing the tool refuses), and a package table
    /// refuses exactly the keys documented as the workspace's.
    #[test]
    fn every_example_is_accepted_where_documented_and_refused_elsewhere() {
        use super::super::table::{parse, TableLevel};
        let origin = super::super::table::tests::origin();
        for key in KEY_DOCS.iter().filter(|k| k.key != "bin") {
            let value: toml::Value = toml::from_str(key.example)
                .unwrap_or_else(|e| panic!("`{}`: the example is not TOML: {e}", key.key));
            let json = serde_json::to_value(value).unwrap();
            let level = match key.tables {
                Tables::Package => TableLevel::Package,
                _ => TableLevel::Workspace,
            };
            if let Err(e) = parse(&json, &origin, level) {
                panic!(
                    "`{}`: the example `{}` is refused: {e}",
                    key.key, key.example
                );
            }
            let in_package = parse(&json, &origin, TableLevel::Package);
            assert_eq!(
                in_package.is_err(),
                key.tables == Tables::Workspace,
                "`{}` in a package table: {in_package:?}",
                key.key
            );
        }
    }
}
