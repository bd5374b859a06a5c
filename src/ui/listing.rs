//! `cargo dockerize list`: the plan as a table for people or as JSON for scripts.
//!
//! Takes a [`Plan`] and writes to the writer it is given, so tests read a buffer. The JSON form is a
//! documented, versioned interface (the guide, docs/src/reference/json.md): fields are only ever added.

use std::io::Write;

use serde::Serialize;

use crate::model::{Linkage, NativeLink, SecretFrom};
use crate::plan::{Build, Compilers, DebugImage, Image, ImagePlatform, Plan, Strip};
use crate::platform::LibcKind;
use crate::source::Source;
use crate::text::table;
use crate::value::escaped;

/// Version of the JSON document; bumped only when a field changes meaning or goes away.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct ListJson<'a> {
    format_version: u32,
    workspace_root: &'a str,
    dockerfile: String,
    /// The Dockerfile relative to the workspace root, as `docker build -f` and CI take it.
    dockerfile_path: &'a str,
    /// The `.dockerignore` written for it, relative to the workspace root.
    dockerignore_path: &'a str,
    rust_version: &'a str,
    /// Where the Rust release comes from: a toolchain file, `rust-version`, or nothing (floating).
    rust_version_source: RustVersionSource,
    /// The first of `platforms`, kept for readers of format 1 written before there could be several.
    platform: &'a str,
    /// Every platform the images are built for, in order.
    platforms: Vec<&'a str>,
    /// Where they came from: `--platform`, the workspace table or the default.
    platforms_source: String,
    /// Whether each platform's builder cross-compiles on the build platform (every plan but linux/amd64 alone).
    cross_compiles: bool,
    profile: &'a str,
    builder_packages: &'a [String],
    builder_reasons: &'a [String],
    binaries: Vec<BinaryJson<'a>>,
    skipped: Vec<SkippedJson<'a>>,
    notes: &'a [String],
    /// What makes the images other than one would expect (`-C target-cpu=native` in Cargo's configuration).
    warnings: &'a [String],
    /// Every base image of the Dockerfile: `reference`, `digest` (null when not pinned), `pinned_by`
    /// (`nothing`, `dockerfile`, `reference`) and the `stages` that start from it.
    bases: &'a [crate::plan::Base],
}

#[derive(Serialize)]
struct BinaryJson<'a> {
    name: &'a str,
    package: &'a str,
    version: &'a str,
    stage: &'a str,
    image: &'a str,
    tags: &'a [String],
    builder: &'a str,
    target: &'a str,
    /// Each platform with its target triple.
    platforms: &'a [ImagePlatform],
    libc: LibcKind,
    linkage: Linkage,
    runtime: &'a str,
    base_image: &'a str,
    runtime_packages: &'a [String],
    native_dependencies: &'a [NativeLink],
    required_features: &'a [String],
    reasons: &'a [String],
    strip: &'a Strip,
    debug: &'a DebugImage,
    /// The crates that compile C and C++ for its target and the toolchain that compiles them.
    compilers: &'a Compilers,
    /// What `cargo dockerize build` builds of it: one build per platform, each with the tags it gets (an image
    /// built for several platforms is tagged `<tag>-<arch>` per platform, its index takes the plain tags).
    builds: Vec<BuildJson<'a>>,
}

#[derive(Serialize)]
struct BuildJson<'a> {
    /// What events and `--metadata-file` call it: the stage, or `<stage>@<arch>`.
    name: &'a str,
    platform: Option<&'static str>,
    triple: &'a str,
    tags: &'a [String],
}

/// `rust_version_source` as format 1 wrote it: `{"kind": "toolchain-file" | "config" | "floating", "detail"}`.
#[derive(Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
enum RustVersionSource {
    /// The toolchain file's name.
    ToolchainFile(String),
    /// The table that sets `rust-version`.
    Config(String),
    Floating,
}

impl RustVersionSource {
    fn of(source: &Source) -> Self {
        match source {
            Source::File { path, .. } => Self::ToolchainFile(path.to_string()),
            Source::Default => Self::Floating,
            other => Self::Config(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    name: &'a str,
    package: &'a str,
    reason: &'a str,
}

fn binary_json<'a>(plan: &'a Plan, image: &'a Image) -> BinaryJson<'a> {
    BinaryJson {
        name: &image.binary,
        package: &image.package,
        version: &image.version,
        stage: &image.stage,
        image: &image.image_name,
        tags: &image.tags,
        builder: plan.builder_alias(&image.stage),
        target: &image.platforms[0].triple,
        platforms: &image.platforms,
        libc: image.libc,
        linkage: image.linkage,
        runtime: image.runtime.kind(),
        base_image: image.runtime.image(),
        runtime_packages: &image.runtime_packages,
        native_dependencies: &image.native,
        required_features: &image.required_features,
        reasons: &image.reasons,
        strip: &image.strip,
        debug: &image.debug,
        compilers: &image.compilers,
        builds: plan
            .builds
            .of_variant(crate::config::Variant::Release)
            .filter(|b| b.stage == image.stage)
            .map(build_json)
            .collect(),
    }
}

fn build_json(build: &Build) -> BuildJson<'_> {
    BuildJson {
        name: &build.name,
        platform: build.platform.map(|p| p.docker_name()),
        triple: &build.triple,
        tags: &build.tags,
    }
}

/// Writes the JSON document, pretty-printed, with a final newline.
pub fn write_json(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = ListJson {
        format_version: FORMAT_VERSION,
        workspace_root: plan.root.as_str(),
        dockerfile: plan.root.join(&plan.dockerfile.path).to_string(),
        dockerfile_path: plan.dockerfile.path.as_str(),
        dockerignore_path: plan.dockerfile.ignore.as_str(),
        rust_version: &plan.toolchain.image_version,
        rust_version_source: RustVersionSource::of(&plan.toolchain.source),
        platform: plan.platforms[0].docker_name(),
        platforms: plan.platforms.iter().map(|p| p.docker_name()).collect(),
        platforms_source: plan.platforms_source.of_key("platforms"),
        cross_compiles: plan.cross_compiles(),
        profile: &plan.profile.name,
        builder_packages: &plan.builder_packages,
        builder_reasons: &plan.builder_reasons,
        binaries: plan
            .selected_images()
            .map(|image| binary_json(plan, image))
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|s| SkippedJson {
                name: &s.binary,
                package: &s.package,
                reason: &s.reason,
            })
            .collect(),
        notes: &plan.notes,
        warnings: &plan.warnings,
        bases: &plan.bases,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Writes the table; with `verbose`, every reason on its own line under each binary.
pub fn write_human(plan: &Plan, verbose: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let header = [
        "BINARY", "PACKAGE", "STAGE", "IMAGE", "RUNTIME", "TARGET", "WHY",
    ];
    let rows: Vec<[String; 7]> = plan
        .selected_images()
        .map(|i| {
            [
                i.binary.clone(),
                i.package.clone(),
                i.stage.clone(),
                i.tags.first().cloned().unwrap_or_default(),
                i.runtime.kind().to_string(),
                i.platforms
                    .iter()
                    .map(|p| p.triple.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                i.reasons.last().cloned().unwrap_or_default(),
            ]
        })
        .collect();
    let table = table(header, &rows);
    let mut lines = table.lines();
    writeln!(out, "{}", lines.next().unwrap_or_default())?;
    for (line, image) in lines.zip(plan.selected_images()) {
        writeln!(out, "{line}")?;
        if verbose {
            write_details(image, out)?;
        }
    }
    if verbose {
        let toolchain_source = match &plan.toolchain.source {
            Source::Default => "nothing pins it: the latest stable release".to_string(),
            source => source.of_key("rust-version"),
        };
        writeln!(
            out,
            "toolchain: rust:{} ({toolchain_source})",
            plan.toolchain.image_version
        )?;
        writeln!(
            out,
            "dockerfile: {} ({}), ignore file {}",
            plan.dockerfile.path,
            plan.dockerfile.source.of_key("dockerfile"),
            plan.dockerfile.ignore
        )?;
        let names: Vec<&str> = plan.platforms.iter().map(|p| p.docker_name()).collect();
        writeln!(
            out,
            "platforms: {} ({}){}",
            names.join(", "),
            plan.platforms_source.of_key("platforms"),
            if plan.cross_compiles() {
                ", each cross-compiled by its own builder on the build platform"
            } else {
                ""
            }
        )?;
    }
    if verbose {
        write_bases(plan, out)?;
        write_secrets(plan, out)?;
    }
    if verbose && !plan.builder_packages.is_empty() {
        writeln!(
            out,
            "builder packages: {}",
            plan.builder_packages.join(", ")
        )?;
        for reason in &plan.builder_reasons {
            writeln!(out, "    - {reason}")?;
        }
    }
    for skipped in &plan.skipped {
        writeln!(
            out,
            "skipped `{}` ({}): {}",
            skipped.binary, skipped.package, skipped.reason
        )?;
    }
    Ok(())
}

/// The BuildKit secrets the builds expect, one line each: its id, and where `build` reads it (`list -v`,
/// `--dry-run`; a plain `docker build` needs the same ids). Never a value.
pub fn secret_lines(plan: &Plan) -> Vec<String> {
    plan.build_secrets
        .iter()
        .map(|secret| {
            let from = match &secret.from {
                SecretFrom::Env(var) => format!("the variable `{}`", escaped(var)),
                SecretFrom::File(file) => format!("the file `{}`", escaped(file)),
                SecretFrom::Registry(name) => {
                    let index = plan
                        .registries
                        .iter()
                        .find(|r| &r.name == name)
                        .map(|r| format!(" ({})", escaped(&r.index)))
                        .unwrap_or_default();
                    format!(
                        "the token of the private registry `{name}`{index}: the variable `{}`, else `[registries.{name}] token` of Cargo's credentials.toml",
                        secret.name
                    )
                }
            };
            format!("{}: {from}", secret.name)
        })
        .collect()
}

/// `list -v`: the secrets the builds mount.
fn write_secrets(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let secrets = secret_lines(plan);
    if !secrets.is_empty() {
        writeln!(
            out,
            "build secrets (mounted in the cook and the final compile):"
        )?;
        for line in secrets {
            writeln!(out, "    - {line}")?;
        }
    }
    Ok(())
}

/// `list -v`: each base image and its pin.
fn write_bases(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    for base in &plan.bases {
        let pin = match (&base.digest, base.pinned_by) {
            (Some(digest), crate::plan::PinnedBy::Reference) => {
                format!("pinned to {digest} by its reference")
            }
            (Some(digest), _) => format!("pinned to {digest} in the Dockerfile"),
            (None, _) => "not pinned (`cargo dockerize pin` pins it)".to_string(),
        };
        writeln!(
            out,
            "base: {} {pin}; stages {}",
            base.reference,
            base.stages.join(", ")
        )?;
    }
    Ok(())
}

/// `list -v`: every reason, package, compiler, tag and variant of one image, indented under its row.
fn write_details(image: &Image, out: &mut dyn Write) -> std::io::Result<()> {
    for reason in &image.reasons {
        writeln!(out, "    - {reason}")?;
    }
    if !image.runtime_packages.is_empty() {
        writeln!(
            out,
            "    - runtime packages: {}",
            image.runtime_packages.join(", ")
        )?;
    }
    let compilers = &image.compilers;
    if !compilers.toolchain.is_empty() {
        writeln!(
            out,
            "    - C compiled for {} by {}: {}",
            image.platforms[0].triple,
            compilers.toolchain,
            compilers.c.join(", ")
        )?;
    }
    for cpp in &compilers.cpp {
        writeln!(out, "    - C++: {cpp}")?;
    }
    writeln!(out, "    - tags: {}", image.tags.join(", "))?;
    match &image.strip {
        Strip::Symbols => writeln!(
            out,
            "    - stripped: the profile sets neither `strip` nor debug info"
        )?,
        Strip::Kept(why) => writeln!(out, "    - as Cargo built it: {why}")?,
    }
    writeln!(
        out,
        "    - debug variant: --target {} ({})",
        image.debug.stage,
        image.debug.tags.join(", ")
    )?;
    Ok(())
}
