//! The edits a developer makes between two builds, applied to a variant's copy of the fixture workspace
//! ([`Checkout`]), and the marks that keep each variant's copy, and each run's, apart in the engine's cache.
//!
//! Each edit is new on every repetition (`n`), so a repeated scenario never finds its result in the cache. Text
//! edits only: the fixtures are ours, so a line-based edit of their manifests is exact enough, and it keeps the
//! manifests as a person would leave them (comments, order).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fixture::{self, Fixture};
use crate::options::{Cold, Scenario, Variant};

/// One variant's copy of the fixture, through the scenarios in order: each build sees one edit on top of the last.
pub struct Checkout {
    pub dir: PathBuf,
    /// The run's id, written into every edit.
    run: String,
    /// The first binary's manifest before any config edit: each config edit replaces the previous one.
    config_base: Option<String>,
    /// When the last build in this copy ended: the next edit waits until the second after it.
    built_at: Option<SystemTime>,
}

impl Checkout {
    /// Copies `pristine` to `dir` and marks the copy as this variant's, in this run.
    pub fn new(
        pristine: &Path,
        dir: PathBuf,
        run: &str,
        variant: Variant,
        cold: Cold,
    ) -> Result<Self, String> {
        fixture::copy_tree(pristine, &dir)?;
        // Each variant's context differs by this file, so no variant finds another's layers in the cache, and
        // the run id keeps a run from finding a previous run's (`--cold no-cache` empties nothing; with `prune`
        // it costs nothing).
        write(
            &dir.join(".bench-variant"),
            &format!("{} {run}\n", variant.key()),
        )?;
        if cold == Cold::NoCache {
            mark_recipes(&dir, run, variant)?;
        }
        if variant.is_handwritten() {
            // Ours is written by `cargo dockerize`; (b)–(d) are packed with the same one.
            write(
                &dir.join(".dockerignore"),
                &cargo_dockerize::render::dockerignore(
                    "cargo dockerize",
                    &cargo_dockerize::plan::DockerfilePath::new(
                        cargo_dockerize::plan::DEFAULT_DOCKERFILE.into(),
                        cargo_dockerize::source::Source::Default,
                    ),
                ),
            )?;
        }
        Ok(Checkout {
            dir,
            run: run.to_string(),
            config_base: None,
            built_at: None,
        })
    }

    /// A build in this copy has just ended.
    pub fn built(&mut self) {
        self.built_at = Some(SystemTime::now());
    }

    /// The edit before the build of `scenario`, repetition `n`.
    pub fn apply(&mut self, fixture: &Fixture, scenario: Scenario, n: usize) -> Result<(), String> {
        let one = fixture.one();
        if !matches!(scenario, Scenario::Cold | Scenario::Unchanged) {
            if let Some(built) = self.built_at {
                wait_for_the_second_after(built);
            }
        }
        match scenario {
            Scenario::Cold | Scenario::Unchanged => Ok(()),
            Scenario::SourceEdit => touch_source(&self.dir.join(&one.source), &self.run, n),
            Scenario::LibEdit => {
                let lib = fixture.lib_source.as_ref().expect("checked by the caller");
                touch_source(&self.dir.join(lib), &self.run, n)
            }
            Scenario::VersionBump => {
                let manifests: Vec<PathBuf> =
                    fixture.manifests.iter().map(|m| self.dir.join(m)).collect();
                if bump_versions(&manifests)? == 0 {
                    return Err("no version to bump in the fixture's manifests".into());
                }
                update_lock(&self.dir)
            }
            Scenario::ConfigEdit => {
                let path = self.dir.join(&one.manifest);
                let base = match &self.config_base {
                    Some(base) => base.clone(),
                    None => self.config_base.insert(read(&path)?).clone(),
                };
                let value = format!("{}-{n}", self.run);
                write(&path, &with_config_edit(&base, &one.name, &value))
            }
            Scenario::DependencyAdded => {
                let line = self.dependency_line(fixture, n)?;
                let path = self.dir.join(&one.manifest);
                write(&path, &with_dependency(&read(&path)?, &line))?;
                update_lock(&self.dir)
            }
        }
    }

    /// A crate of the lock not yet depended on, a new one each repetition.
    fn dependency_line(&self, fixture: &Fixture, n: usize) -> Result<String, String> {
        let run = &self.run;
        let spare = &fixture.spare_dependencies;
        if let Some((name, version)) = spare.get(n) {
            return Ok(format!("{name} = \"{version}\" # benchmark {run}"));
        }
        // Out of distinct crates: the same crate again under a new name is still a new dependency.
        let (name, version) = spare
            .first()
            .ok_or("no registry crate in Cargo.lock to add as a dependency")?;
        Ok(format!(
            "benchmark-dependency-{n} = {{ package = \"{name}\", version = \"{version}\" }} # benchmark {run}"
        ))
    }
}

/// Sleeps until the clock is past the whole second in which `built` fell. A tar header stores whole seconds, so an
/// edit made in the same second as the build before it reaches (b)–(d)'s builders older than that build's outputs:
/// (d), whose `target/` persists in a cache mount, would then rebuild nothing and ship the old binary. A developer's
/// edit never comes that quickly; on the quick fixture, whose builds take a fraction of a second, it would. The
/// margin: a file's time comes from the kernel's coarse clock, a few milliseconds behind [`SystemTime::now`].
fn wait_for_the_second_after(built: SystemTime) {
    let since_epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let next_second =
        Duration::from_secs(since_epoch(built).as_secs() + 1) + Duration::from_millis(50);
    if let Some(wait) = next_second.checked_sub(since_epoch(SystemTime::now())) {
        std::thread::sleep(wait);
    }
}

/// The recipes leave `.bench-variant` out: a metadata table of the root manifest (kept by cargo-chef's) and an
/// alias in `.cargo/config.toml` (kept by ours, which drops comments and metadata; an alias changes no build) make
/// them unique to the run and the variant, so the dependency layers of this run's edits are built, not found in a
/// previous run's cache, and our compile cache mount (its id names the workspace and the toolchain only: (a) one
/// and (a) all, and every run, share it) is seeded afresh at each variant's cold build, as the recipe differs.
fn mark_recipes(dir: &Path, run: &str, variant: Variant) -> Result<(), String> {
    let config = dir.join(".cargo/config.toml");
    let mut text = if config.exists() {
        read(&config)? + "\n"
    } else {
        String::new()
    };
    text.push_str(&format!(
        "[alias]\ndzbench-{run}-{} = \"build\"\n",
        variant.key()
    ));
    std::fs::create_dir_all(dir.join(".cargo"))
        .map_err(|e| format!("failed to create {}/.cargo: {e}", dir.display()))?;
    write(&config, &text)?;
    let root = dir.join("Cargo.toml");
    let text = read(&root)?;
    let table = if text.lines().any(|l| l.trim() == "[workspace]") {
        "workspace"
    } else {
        "package"
    };
    write(
        &root,
        &format!("# benchmark run {run}\n{text}\n[{table}.metadata.benchmark]\nrun = \"{run}\"\n"),
    )
}

/// A source edit: a comment line at the end of the file. Cargo rebuilds the crate (it compares file times), the
/// build context's checksum changes.
fn touch_source(path: &Path, run: &str, n: usize) -> Result<(), String> {
    let mut text = read(path)?;
    text.push_str(&format!("// benchmark {run} edit #{n}\n"));
    write(path, &text)
}

/// Bumps the patch version of every local crate: `version = "x.y.z"` in `[package]` and `[workspace.package]`,
/// and the version requirement of path dependencies (`{ path = "...", version = "x.y.z" }`), so they still match.
fn bump_versions(manifests: &[PathBuf]) -> Result<usize, String> {
    let mut bumped = 0;
    for manifest in manifests {
        let text = read(manifest)?;
        let (new, count) = bump_manifest(&text);
        if count > 0 {
            write(manifest, &new)?;
            bumped += count;
        }
    }
    Ok(bumped)
}

fn bump_manifest(text: &str) -> (String, usize) {
    let mut section = String::new();
    let mut count = 0;
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        let package = section == "package" || section == "workspace.package";
        let own_version =
            package && trimmed.starts_with("version") && !trimmed.contains(".workspace");
        let path_dependency = trimmed.contains("path") && trimmed.contains('{');
        if own_version || path_dependency {
            if let Some(bumped) = bump_quoted_version(line) {
                out.push_str(&bumped);
                count += 1;
                continue;
            }
        }
        out.push_str(line);
    }
    (out, count)
}

/// `... version = "1.2.3" ...` → `... version = "1.2.4" ...`; `None` when the line holds no such version.
fn bump_quoted_version(line: &str) -> Option<String> {
    let key = line.find("version")?;
    let after = &line[key + "version".len()..];
    let open = key + "version".len() + after.find('"')?;
    let close = open + 1 + line[open + 1..].find('"')?;
    let version = &line[open + 1..close];
    let mut parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let patch: u64 = parts[2].parse().ok()?;
    let next = (patch + 1).to_string();
    parts[2] = &next;
    Some(format!(
        "{}{}{}",
        &line[..=open],
        parts.join("."),
        &line[close..]
    ))
}

/// `base` (a manifest) with a `[package.metadata.dockerize.bin.<bin>]` label whose value is `value`: a configuration
/// edit that changes only the image's metadata.
fn with_config_edit(base: &str, bin: &str, value: &str) -> String {
    let mut text = base.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n[package.metadata.dockerize.bin.{bin}.labels]\n\"org.example.benchmark-edit\" = \"{value}\"\n"
    ));
    text
}

/// `text` (a manifest) with `line` added at the top of its `[dependencies]` table (created when missing).
fn with_dependency(text: &str, line: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 16);
    let mut added = false;
    for l in text.split_inclusive('\n') {
        out.push_str(l);
        if !added && l.trim() == "[dependencies]" {
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
            added = true;
        }
    }
    if !added {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("\n[dependencies]\n{line}\n"));
    }
    out
}

/// Registry packages of a `Cargo.lock`, as (name, version).
pub fn locked_registry_packages(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim_start().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(version), Some(_)) =
            (field("name "), field("version "), field("source "))
        {
            out.push((name, version));
        }
    }
    out
}

/// Brings `Cargo.lock` up to date with the manifests without touching the network or other packages' versions.
fn update_lock(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let what = format!(
        "`{cargo} update --workspace --offline` in {}",
        root.display()
    );
    crate::stdout_of(
        Command::new(&cargo)
            .args(["update", "--workspace", "--offline", "--quiet"])
            .current_dir(root),
        &what,
    )
    .map(drop)
}

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("failed to read {}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("failed to write {}: {e}", path.display()))
}
