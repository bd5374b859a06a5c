//! The `cfg(...)` values of the target triples images are built for, so that one unfiltered `cargo metadata` can
//! be read for each of them.
//!
//! Takes a target triple and gives what `rustc --print cfg --target <triple>` prints for it (without the
//! profile's `debug_assertions` and `overflow_checks`). Written out rather than asked of `rustc`: asking costs a
//! process per target on every run, and the answer must not depend on the machine (the host's `rustc` may lack
//! the target, or be another release than the image's). Only Linux triples of the platforms the images are built
//! for are known; a test compares them with the installed `rustc`. Pure.

use std::str::FromStr;

use cargo_metadata::cargo_platform::Cfg;

/// The triples whose `cfg` values are known: the `linux/amd64` and `linux/arm64` platforms, glibc and musl.
pub const KNOWN_TRIPLES: &[&str] = &[
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
];

/// The `cfg` values of `triple`, as `rustc --print cfg` spells them; `None` for a triple this table lacks.
pub fn cfg_lines(triple: &str) -> Option<Vec<String>> {
    if !KNOWN_TRIPLES.contains(&triple) {
        return None;
    }
    let (arch, env) = triple.split_once("-unknown-linux-")?;
    let mut lines: Vec<String> = [
        "panic=\"unwind\"",
        "target_abi=\"\"",
        "target_endian=\"little\"",
        "target_family=\"unix\"",
        "target_has_atomic=\"16\"",
        "target_has_atomic=\"32\"",
        "target_has_atomic=\"64\"",
        "target_has_atomic=\"8\"",
        "target_has_atomic=\"ptr\"",
        "target_os=\"linux\"",
        "target_pointer_width=\"64\"",
        "target_vendor=\"unknown\"",
        "unix",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    lines.push(format!("target_arch=\"{arch}\""));
    lines.push(format!("target_env=\"{env}\""));
    let features: &[&str] = match arch {
        "x86_64" => &["fxsr", "sse", "sse2"],
        _ => &["neon"],
    };
    lines.extend(features.iter().map(|f| format!("target_feature=\"{f}\"")));
    if arch == "aarch64" {
        lines.push("target_has_atomic=\"128\"".into());
    }
    // musl targets link statically by default, which `cfg(target_feature = "crt-static")` reads.
    if env == "musl" {
        lines.push("target_feature=\"crt-static\"".into());
    }
    lines.sort();
    Some(lines)
}

/// The parsed `cfg` values of `triple`; empty for an unknown triple (then only `cfg`-free and triple-named
/// platform dependencies match, which is what Cargo's `--filter-platform` does with a target it cannot ask
/// `rustc` about).
pub fn cfgs(triple: &str) -> Vec<Cfg> {
    cfg_lines(triple)
        .unwrap_or_default()
        .iter()
        .filter_map(|line| Cfg::from_str(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_parses() {
        for triple in KNOWN_TRIPLES {
            assert_eq!(
                cfgs(triple).len(),
                cfg_lines(triple).unwrap().len(),
                "{triple}"
            );
        }
        assert!(cfgs("riscv64gc-unknown-linux-gnu").is_empty());
    }

    /// The table against the installed `rustc`: every value it names, rustc names too, and it names every value
    /// rustc does but the target features and atomics a newer release may add.
    #[test]
    fn the_table_agrees_with_rustc() {
        for triple in KNOWN_TRIPLES {
            let output = std::process::Command::new("rustc")
                .args(["--print", "cfg", "--target", triple])
                .output()
                .expect("run rustc");
            assert!(output.status.success(), "rustc knows {triple}");
            let rustc: Vec<String> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter(|l| !matches!(*l, "debug_assertions" | "overflow_checks"))
                .map(str::to_string)
                .collect();
            let ours = cfg_lines(triple).unwrap();
            for line in &ours {
                assert!(
                    rustc.contains(line),
                    "{triple}: rustc does not print {line}"
                );
            }
            for line in rustc.iter().filter(|l| {
                !l.starts_with("target_feature=") && !l.starts_with("target_has_atomic=")
            }) {
                assert!(ours.contains(line), "{triple}: the table lacks {line}");
            }
        }
    }
}
