//! The flags Cargo passes to `rustc` for one target's code, resolved from Cargo's configuration as Cargo resolves
//! them, and what those flags say about how the binary links.
//!
//! Cargo's precedence (its reference, "build.rustflags"), the first that is set wins:
//! 1. `CARGO_ENCODED_RUSTFLAGS`, then `RUSTFLAGS`;
//! 2. every `target.<triple>.rustflags` (the files' lists joined, `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` after them)
//!    followed by the `rustflags` of each `target.'cfg(...)'` table whose expression holds for the target, in
//!    the order of their keys; an empty result counts as unset;
//! 3. `build.rustflags` (the files' lists joined, `CARGO_BUILD_RUSTFLAGS` after them).
//!
//! The `cfg(...)` tables are evaluated as Cargo does: against the target's `cfg` set as `rustc` prints it under the
//! flags found so far (first without any `cfg` table), again until the flags no longer change. The `cfg` set
//! comes from [`crate::platform::Triple`], and changes with the flags that change it: `--cfg`, `-C
//! target-feature` (`-crt-static` removes `target_feature = "crt-static"`) and `-C panic`.
//!
//! The environment is the builder's (`build-env` of `[workspace.metadata.dockerize]`, which the Dockerfile sets in
//! every builder stage), never this machine's. Pure.

use std::collections::BTreeMap;

use cargo_metadata::cargo_platform::{Cfg, CfgExpr};

use super::cargo_config::CargoConfig;
use crate::platform::{cargo_target_var, Triple};

/// How many times the `cfg` tables are evaluated again before the flags are taken as they are (Cargo warns
/// about a configuration that does not settle).
const MAX_ROUNDS: usize = 4;

/// One flag and the setting it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub text: String,
    /// "`target.'cfg(all())'.rustflags` in `.cargo/config.toml`", "`RUSTFLAGS` in build-env".
    pub origin: String,
}

/// Which of Cargo's settings gives a target its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagLevel {
    /// None does: rustc's defaults.
    Unset,
    /// `build.rustflags` (or `CARGO_BUILD_RUSTFLAGS`).
    Build,
    /// `target.<triple>.rustflags` or a `target.'cfg(...)'` table.
    Target,
    /// `RUSTFLAGS` or `CARGO_ENCODED_RUSTFLAGS`: nothing else counts, not even the builder's own additions.
    Environment,
}

/// The flags of one target, and the linker Cargo's configuration names for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFlags {
    pub flags: Vec<Flag>,
    pub level: FlagLevel,
    /// `target.<triple>.linker` (or a `cfg` table's, or `CARGO_TARGET_<TRIPLE>_LINKER`), with its origin.
    pub linker: Option<Flag>,
}

impl TargetFlags {
    /// What the flags say of `crt-static`: `Some(true)` for `+crt-static`, `Some(false)` for `-crt-static` (the
    /// last one counts, as in `rustc`), with the flag's origin; `None` when they do not say.
    pub fn crt_static(&self) -> Option<(bool, &str)> {
        codegen(&self.flags)
            .filter(|(key, _, _)| *key == "target-feature")
            .flat_map(|(_, value, origin)| {
                value
                    .split(',')
                    .filter_map(move |feature| match feature.trim() {
                        "+crt-static" => Some((true, origin)),
                        "-crt-static" => Some((false, origin)),
                        _ => None,
                    })
            })
            .last()
    }

    /// The CPU the flags compile for (`-C target-cpu=native`), with its origin.
    pub fn target_cpu(&self) -> Option<(&str, &str)> {
        codegen(&self.flags)
            .filter(|(key, _, _)| *key == "target-cpu")
            .map(|(_, value, origin)| (value, origin))
            .last()
    }
}

impl CargoConfig {
    /// The flags Cargo passes to `rustc` for `triple`'s code in a builder whose environment is `env`.
    pub fn target_flags(&self, triple: Triple, env: &BTreeMap<String, String>) -> TargetFlags {
        let linker = self.linker(triple, env);
        if let Some(flags) = from_environment(env) {
            return TargetFlags {
                flags,
                level: FlagLevel::Environment,
                linker,
            };
        }
        let base = triple.cfg_lines();
        let mut flags = self.target_level(triple, env, None);
        for _ in 0..MAX_ROUNDS {
            let cfg = cfg_under(&base, &flags);
            let next = self.target_level(triple, env, Some(&cfg));
            if next == flags {
                break;
            }
            flags = next;
        }
        if !flags.is_empty() {
            return TargetFlags {
                flags,
                level: FlagLevel::Target,
                linker,
            };
        }
        let mut flags = Vec::new();
        for file in &self.files {
            for text in file.build_rustflags.iter().flatten() {
                flags.push(flag(text, "build.rustflags", &file.path));
            }
        }
        flags.extend(env_list(env, "CARGO_BUILD_RUSTFLAGS"));
        let level = if flags.is_empty() {
            FlagLevel::Unset
        } else {
            FlagLevel::Build
        };
        TargetFlags {
            flags,
            level,
            linker,
        }
    }

    /// `build.target` (or `CARGO_BUILD_TARGET` of the builder's environment): its triples and where it is set.
    pub fn build_target(&self, env: &BTreeMap<String, String>) -> Option<(Vec<String>, String)> {
        if let Some(value) = env
            .get("CARGO_BUILD_TARGET")
            .filter(|v| !v.trim().is_empty())
        {
            return Some((
                vec![value.trim().to_string()],
                "`CARGO_BUILD_TARGET` in build-env".to_string(),
            ));
        }
        // The deepest file's value wins.
        self.files.iter().rev().find_map(|file| {
            let targets = file.build_target.clone()?;
            Some((targets, format!("`build.target` in `{}`", file.path)))
        })
    }

    /// `target.<triple>.rustflags` of every file, `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`, then, with a `cfg` set, the
    /// `rustflags` of every `cfg(...)` table that holds, in the order of their keys.
    fn target_level(
        &self,
        triple: Triple,
        env: &BTreeMap<String, String>,
        cfg: Option<&[Cfg]>,
    ) -> Vec<Flag> {
        let key = format!("target.{triple}.rustflags");
        let mut flags = Vec::new();
        for file in &self.files {
            let own = file
                .targets
                .get(triple.name())
                .and_then(|t| t.rustflags.as_ref());
            flags.extend(
                own.into_iter()
                    .flatten()
                    .map(|text| flag(text, &key, &file.path)),
            );
        }
        flags.extend(env_list(env, &cargo_target_var(triple.name(), "RUSTFLAGS")));
        let Some(cfg) = cfg else { return flags };
        let mut tables: BTreeMap<&str, Vec<Flag>> = BTreeMap::new();
        for file in &self.files {
            for (expression, keys) in &file.targets {
                if !expression.starts_with("cfg(") || !CfgExpr::matches_key(expression, cfg) {
                    continue;
                }
                let key = format!("target.'{expression}'.rustflags");
                let list = tables.entry(expression).or_default();
                list.extend(
                    keys.rustflags
                        .iter()
                        .flatten()
                        .map(|text| flag(text, &key, &file.path)),
                );
            }
        }
        flags.extend(tables.into_values().flatten());
        flags
    }

    /// `CARGO_TARGET_<TRIPLE>_LINKER`, else the deepest file's `target.<triple>.linker`, else the first `cfg(...)`
    /// table that holds and names one.
    fn linker(&self, triple: Triple, env: &BTreeMap<String, String>) -> Option<Flag> {
        let var = cargo_target_var(triple.name(), "LINKER");
        if let Some(linker) = env.get(&var) {
            return Some(Flag {
                text: linker.clone(),
                origin: format!("`{var}` in build-env"),
            });
        }
        let key = format!("target.{triple}.linker");
        let own = self.files.iter().rev().find_map(|file| {
            let linker = file.targets.get(triple.name())?.linker.as_ref()?;
            Some(flag(linker, &key, &file.path))
        });
        let cfg = cfg_under(&triple.cfg_lines(), &[]);
        own.or_else(|| {
            self.files.iter().rev().find_map(|file| {
                file.targets.iter().find_map(|(expression, keys)| {
                    let linker = keys.linker.as_ref()?;
                    CfgExpr::matches_key(expression, &cfg)
                        .then(|| flag(linker, &format!("target.'{expression}'.linker"), &file.path))
                })
            })
        })
    }
}

fn flag(text: &str, key: &str, file: &camino::Utf8Path) -> Flag {
    Flag {
        text: text.to_string(),
        origin: format!("`{key}` in `{file}`"),
    }
}

/// `CARGO_ENCODED_RUSTFLAGS` (separated by 0x1f) or `RUSTFLAGS` (by whitespace), when set, even empty: Cargo then
/// reads nothing else.
fn from_environment(env: &BTreeMap<String, String>) -> Option<Vec<Flag>> {
    if let Some(encoded) = env.get("CARGO_ENCODED_RUSTFLAGS") {
        let origin = "`CARGO_ENCODED_RUSTFLAGS` in build-env";
        return Some(
            encoded
                .split('\x1f')
                .filter(|f| !f.is_empty())
                .map(|text| Flag {
                    text: text.to_string(),
                    origin: origin.to_string(),
                })
                .collect(),
        );
    }
    env.contains_key("RUSTFLAGS")
        .then(|| env_list(env, "RUSTFLAGS"))
}

/// A variable of the environment split at whitespace, as Cargo splits a list from the environment.
fn env_list(env: &BTreeMap<String, String>, var: &str) -> Vec<Flag> {
    env.get(var)
        .into_iter()
        .flat_map(|value| value.split_whitespace())
        .map(|text| Flag {
            text: text.to_string(),
            origin: format!("`{var}` in build-env"),
        })
        .collect()
}

/// The codegen options among `flags` (`-C key=value`, `-Ckey=value`, `--codegen key=value`,
/// `--codegen=key=value`): key, value and the origin of the flag that holds them.
fn codegen(flags: &[Flag]) -> impl Iterator<Item = (&str, &str, &str)> {
    let mut options = Vec::new();
    let mut iter = flags.iter();
    while let Some(flag) = iter.next() {
        let (text, origin) = (flag.text.as_str(), flag.origin.as_str());
        let option = if text == "-C" || text == "--codegen" {
            iter.next().map(|f| (f.text.as_str(), f.origin.as_str()))
        } else if let Some(rest) = text.strip_prefix("--codegen=") {
            Some((rest, origin))
        } else {
            text.strip_prefix("-C")
                .filter(|rest| !rest.is_empty())
                .map(|rest| (rest, origin))
        };
        if let Some((option, origin)) = option {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            options.push((key.trim(), value.trim(), origin));
        }
    }
    options.into_iter()
}

/// The `--cfg` values among `flags` (`--cfg name`, `--cfg=name`, `--cfg key="value"`).
fn cfg_flags(flags: &[Flag]) -> Vec<String> {
    let mut out = Vec::new();
    let mut iter = flags.iter();
    while let Some(flag) = iter.next() {
        if flag.text == "--cfg" {
            out.extend(iter.next().map(|f| f.text.clone()));
        } else if let Some(value) = flag.text.strip_prefix("--cfg=") {
            out.push(value.to_string());
        }
    }
    out
}

/// The `cfg` set `rustc` prints for a target whose own set is `base` under `flags`.
fn cfg_under(base: &[String], flags: &[Flag]) -> Vec<Cfg> {
    let mut lines: Vec<String> = base.to_vec();
    for (key, value, _) in codegen(flags) {
        match key {
            "target-feature" => {
                for feature in value.split(',').map(str::trim) {
                    let (on, name) = match feature.split_at_checked(1) {
                        Some(("+", name)) => (true, name),
                        Some(("-", name)) => (false, name),
                        _ => continue,
                    };
                    let line = format!("target_feature=\"{name}\"");
                    lines.retain(|l| *l != line);
                    if on {
                        lines.push(line);
                    }
                }
            }
            "panic" if !value.is_empty() => {
                lines.retain(|l| !l.starts_with("panic="));
                lines.push(format!("panic=\"{value}\""));
            }
            _ => {}
        }
    }
    lines.extend(cfg_flags(flags));
    lines.iter().filter_map(|line| line.parse().ok()).collect()
}

#[cfg(test)]
mod tests;
