//! Stage and image names: every binary gets a valid, unique one, and the user is told when it is not the
//! binary's own name. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::select::Candidate;
use crate::model::stage;

/// What a binary's stage name gets for its debug variant.
pub const DEBUG_SUFFIX: &str = "-debug";

/// Whether a binary's stage may not take `name`: a pipeline stage's (`stage::RESERVED`), or a builder's of a
/// multi-platform plan (`builder-arm64`, `builder-musl-armv7`), reserved in every plan so that adding a
/// platform never renames an image.
fn is_reserved(name: &str) -> bool {
    stage::RESERVED.contains(&name)
        || [
            stage::BUILDER,
            stage::BUILDER_MUSL,
            stage::BUILDER_GNU,
            stage::BUILDER_GNU_STATIC,
        ]
        .iter()
        .any(|kind| {
            crate::platform::ALL
                .iter()
                .any(|p| name == format!("{kind}-{}", p.suffix()))
        })
}

/// Valid, unique stage names. A name shared by several binaries becomes `<package>-<binary>` for each of
/// them, so that no binary's name depends on which other binaries happen to be selected first.
pub fn assign_stage_names(candidates: &[Candidate<'_>], notes: &mut Vec<String>) -> Vec<String> {
    let plain: Vec<String> = candidates
        .iter()
        .map(|c| stage_name(&c.binary.name))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &plain {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for (candidate, name) in candidates.iter().zip(&plain) {
        let shared = counts[name.as_str()] > 1;
        let reserved = is_reserved(name);
        // `api-debug` beside `api` would take the name of `api`'s debug variant.
        let debug_of_another = plain
            .iter()
            .any(|other| format!("{other}{DEBUG_SUFFIX}") == *name);
        let mut chosen = if shared || reserved || debug_of_another {
            stage_name(&format!(
                "{}-{}",
                candidate.package.name, candidate.binary.name
            ))
        } else {
            name.clone()
        };
        let base = chosen.clone();
        let mut n = 2;
        let clashes = |name: &str| {
            taken.contains(name)
                || taken.contains(&format!("{name}{DEBUG_SUFFIX}"))
                || is_reserved(name)
        };
        while clashes(&chosen) {
            chosen = format!("{base}-{n}");
            n += 1;
        }
        if chosen != candidate.binary.name {
            let why = if shared {
                "its name is shared with another binary of the workspace"
            } else if reserved {
                "its name is reserved for a pipeline stage"
            } else if debug_of_another {
                "its name is that of another binary's debug variant"
            } else {
                "stage and image names must be lowercase and start with a letter"
            };
            notes.push(format!(
                "binary `{}` of package `{}` gets the stage and image name `{}`: {}",
                candidate.binary.name, candidate.package.name, chosen, why
            ));
        }
        taken.insert(format!("{chosen}{DEBUG_SUFFIX}"));
        taken.insert(chosen.clone());
        out.push(chosen);
    }
    out
}

/// A Dockerfile stage name for `name`: lowercase, `[a-z][a-z0-9._-]*`, which is also a valid image name.
pub fn stage_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let after_separator = out.is_empty() || out.ends_with(['-', '_', '.']);
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !after_separator {
            // Separators are kept, anything else becomes `-`; never two in a row.
            out.push(if matches!(c, '-' | '_' | '.') { c } else { '-' });
        }
    }
    let out = out.trim_end_matches(['-', '_', '.']).to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        Some(_) => format!("bin-{out}"),
        None => "bin".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_valid() {
        assert_eq!(stage_name("api"), "api");
        assert_eq!(stage_name("My_Tool"), "my_tool");
        assert_eq!(stage_name("2fa"), "bin-2fa");
        assert_eq!(stage_name("a..b"), "a.b");
        assert_eq!(stage_name("héllo wörld"), "h-llo-w-rld");
        assert_eq!(stage_name("_"), "bin");
    }
}
