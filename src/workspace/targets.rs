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

/// The triples whose `cfg` values are known: every platform of [`crate::platform::ALL`], glibc and musl.
pub const KNOWN_TRIPLES: &[&str] = &[
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
    "armv7-unknown-linux-gnueabihf",
    "armv7-unknown-linux-musleabihf",
    "powerpc64le-unknown-linux-gnu",
    "powerpc64le-unknown-linux-musl",
    "riscv64gc-unknown-linux-gnu",
    "riscv64gc-unknown-linux-musl",
    "s390x-unknown-linux-gnu",
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
];

/// What `cfg` says of an architecture: `target_arch`, `target_abi`, pointer width, endianness, the target
/// features on by default and whether 128-bit atomics exist.
struct Arch {
    arch: &'static str,
    abi: &'static str,
    width: &'static str,
    endian: &'static str,
    features: &'static [&'static str],
    atomic128: bool,
}

/// The architecture part of `triple`'s `cfg`, by the triple's first component.
fn arch_of(first: &str) -> Option<Arch> {
    let arch = |arch, abi, width, endian, features, atomic128| Arch {
        arch,
        abi,
        width,
        endian,
        features,
        atomic128,
    };
    Some(match first {
        "x86_64" => arch(
            "x86_64",
            "",
            "64",
            "little",
            &["fxsr", "sse", "sse2"][..],
            false,
        ),
        "aarch64" => arch("aarch64", "", "64", "little", &["neon"][..], true),
        "armv7" => arch("arm", "eabihf", "32", "little", &[][..], false),
        "powerpc64le" => arch("powerpc64", "elfv2", "64", "little", &[][..], false),
        "s390x" => arch("s390x", "", "64", "big", &[][..], true),
        "riscv64gc" => arch("riscv64", "", "64", "little", &["a", "c", "m"][..], false),
        _ => return None,
    })
}

/// The `cfg` values of `triple`, as `rustc --print cfg` spells them; `None` for a triple this table lacks.
pub fn cfg_lines(triple: &str) -> Option<Vec<String>> {
    if !KNOWN_TRIPLES.contains(&triple) {
        return None;
    }
    let (first, env) = triple.split_once("-unknown-linux-")?;
    let arch = arch_of(first)?;
    let env = if env.starts_with("musl") {
        "musl"
    } else {
        "gnu"
    };
    let mut lines: Vec<String> = [
        "panic=\"unwind\"",
        "target_family=\"unix\"",
        "target_has_atomic=\"16\"",
        "target_has_atomic=\"32\"",
        "target_has_atomic=\"64\"",
        "target_has_atomic=\"8\"",
        "target_has_atomic=\"ptr\"",
        "target_os=\"linux\"",
        "target_vendor=\"unknown\"",
        "unix",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    lines.push(format!("target_abi=\"{}\"", arch.abi));
    lines.push(format!("target_arch=\"{}\"", arch.arch));
    lines.push(format!("target_endian=\"{}\"", arch.endian));
    lines.push(format!("target_env=\"{env}\""));
    lines.push(format!("target_pointer_width=\"{}\"", arch.width));
    lines.extend(
        arch.features
            .iter()
            .map(|f| format!("target_feature=\"{f}\"")),
    );
    if arch.atomic128 {
        lines.push("target_has_atomic=\"128\"".into());
    }
    // musl targets link statically by default, which `cfg(target_feature = "crt-static")` reads; riscv64's does
    // not (its builder turns it on, see `plan::cross`).
    if env == "musl" && first != "riscv64gc" {
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
        assert!(cfgs("sparc64-unknown-linux-gnu").is_empty());
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
