//! Rust's target triples of the platforms: which C library each links, what `cfg` says of it, and the names
//! Cargo and the `cc` crate give it in environment variables.
//!
//! A [`Triple`] is a row of the platform table and a C library, so its architecture, its Debian and GCC names and
//! its Docker platform are the platform's; its `cfg` set is built from the same row (what `rustc --print cfg
//! --target <triple>` prints, without the profile's `debug_assertions` and `overflow_checks`). Written out rather
//! than asked of `rustc`: asking costs a process per target on every run, and the answer must not depend on the
//! machine (the host's `rustc` may lack the target, or be another release than the image's). Tests compare the
//! table with the installed `rustc`. Pure.

use serde::Serialize;

use super::{Platform, ALL};

/// The C library a binary is built against: the last part of its triple (`-gnu`, `-musleabihf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LibcKind {
    Musl,
    Gnu,
}

/// A target triple of the table: a platform and a C library Rust ships a standard library for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Triple {
    platform: Platform,
    libc: LibcKind,
}

impl Triple {
    /// The triple of `platform` and `libc`; `None` for musl where Rust ships no standard library (s390x).
    pub fn of(platform: Platform, libc: LibcKind) -> Option<Self> {
        let names = platform.names();
        let known = match libc {
            LibcKind::Gnu => true,
            LibcKind::Musl => names.musl.is_some(),
        };
        known.then_some(Self { platform, libc })
    }

    /// Every triple of the table: each platform's musl triple where Rust has one, and its glibc triple.
    pub fn all() -> impl Iterator<Item = Self> {
        ALL.into_iter().flat_map(|platform| {
            [LibcKind::Musl, LibcKind::Gnu]
                .into_iter()
                .filter_map(move |libc| Self::of(platform, libc))
        })
    }

    /// The triple of the table Rust calls `name`; `None` for any other (another OS, architecture or ABI).
    pub fn parse(name: &str) -> Option<Self> {
        Self::all().find(|t| t.name() == name)
    }

    /// Rust's name, `armv7-unknown-linux-musleabihf`.
    pub fn name(self) -> &'static str {
        let names = self.platform.names();
        match self.libc {
            LibcKind::Gnu => names.gnu,
            LibcKind::Musl => names
                .musl
                .expect("a musl triple exists only where Rust has one"),
        }
    }

    pub fn platform(self) -> Platform {
        self.platform
    }

    pub fn libc(self) -> LibcKind {
        self.libc
    }

    /// Whether Rust links it statically unless told otherwise (`crt-static` on by default): musl targets but
    /// riscv64's, which Rust links dynamically.
    pub fn static_by_default(self) -> bool {
        self.libc == LibcKind::Musl && self.platform.names().musl_static
    }

    /// The `cfg` values of the triple, as `rustc --print cfg` spells them, sorted.
    pub fn cfg_lines(self) -> Vec<String> {
        let cfg = &self.platform.names().cfg;
        let env = match self.libc {
            LibcKind::Gnu => "gnu",
            LibcKind::Musl => "musl",
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
        lines.push(format!("target_abi=\"{}\"", cfg.abi));
        lines.push(format!("target_arch=\"{}\"", cfg.arch));
        lines.push(format!("target_endian=\"{}\"", cfg.endian));
        lines.push(format!("target_env=\"{env}\""));
        lines.push(format!("target_pointer_width=\"{}\"", cfg.width));
        lines.extend(
            cfg.features
                .iter()
                .map(|f| format!("target_feature=\"{f}\"")),
        );
        if cfg.atomic128 {
            lines.push("target_has_atomic=\"128\"".into());
        }
        // `cfg(target_feature = "crt-static")` reads how the target links by default.
        if self.static_by_default() {
            lines.push("target_feature=\"crt-static\"".into());
        }
        lines.sort();
        lines
    }
}

impl std::fmt::Display for Triple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Triple {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Whether any target triple, of the table or not, is a musl one: its environment (the last part) starts with
/// `musl` (`-musl`, `-musleabihf`, `-muslabi64`), which is how Rust names every target whose `target_env` is
/// `musl`.
pub fn is_musl(triple: &str) -> bool {
    triple
        .rsplit('-')
        .next()
        .is_some_and(|env| env.starts_with("musl"))
}

/// `CARGO_TARGET_<TRIPLE>_<KEY>`: the environment variable that sets `target.<triple>.<key>` of Cargo's
/// configuration (`key` upper-case: `LINKER`, `RUSTFLAGS`).
pub fn cargo_target_var(triple: &str, key: &str) -> String {
    format!(
        "CARGO_TARGET_{}_{key}",
        triple.to_ascii_uppercase().replace(['-', '.'], "_")
    )
}

/// `<KEY>_<triple>`: the variable the `cc` crate (and `pkg-config`'s) reads for one target, `CC_aarch64_unknown_linux_musl`.
pub fn cc_var(key: &str, triple: &str) -> String {
    format!("{key}_{}", triple.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rustc(args: &[&str]) -> String {
        let output = std::process::Command::new("rustc")
            .args(args)
            .output()
            .expect("run rustc");
        assert!(output.status.success(), "rustc {args:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Every triple of the table is one rustc knows (so `rustup target add` of it works), and parses back.
    #[test]
    fn rustc_knows_every_triple() {
        let known = rustc(&["--print", "target-list"]);
        for triple in Triple::all() {
            assert!(known.lines().any(|l| l == triple.name()), "{triple}");
            assert_eq!(Triple::parse(triple.name()), Some(triple));
            assert_eq!(triple.platform().triple(triple.libc()), Some(triple.name()));
        }
        assert_eq!(Triple::all().count(), 11);
        assert_eq!(Triple::parse("s390x-unknown-linux-musl"), None);
        assert_eq!(Triple::parse("wasm32-unknown-unknown"), None);
    }

    /// The table against the installed `rustc`: every value it names, rustc names too; it names every value
    /// rustc does but the target features and atomics a newer release may add; and `crt-static`, which decides
    /// how a binary links, exactly as rustc says.
    #[test]
    fn the_cfg_sets_agree_with_rustc() {
        for triple in Triple::all() {
            let printed = rustc(&["--print", "cfg", "--target", triple.name()]);
            let rustc: Vec<&str> = printed
                .lines()
                .filter(|l| !matches!(*l, "debug_assertions" | "overflow_checks"))
                .collect();
            let ours = triple.cfg_lines();
            for line in &ours {
                assert!(
                    rustc.contains(&line.as_str()),
                    "{triple}: rustc does not print {line}"
                );
            }
            for line in rustc.iter().filter(|l| {
                !l.starts_with("target_feature=") && !l.starts_with("target_has_atomic=")
            }) {
                assert!(
                    ours.iter().any(|o| o == line),
                    "{triple}: the table lacks {line}"
                );
            }
            let crt_static = "target_feature=\"crt-static\"";
            assert_eq!(
                rustc.contains(&crt_static),
                triple.static_by_default(),
                "{triple}: crt-static by default"
            );
            assert_eq!(
                is_musl(triple.name()),
                triple.libc() == LibcKind::Musl,
                "{triple}"
            );
        }
    }

    /// `is_musl` says what rustc's `target_env` says, for every Linux target rustc knows.
    #[test]
    fn is_musl_agrees_with_rustc_on_every_linux_target() {
        let list = rustc(&["--print", "target-list"]);
        let linux: Vec<&str> = list.lines().filter(|t| t.contains("-linux")).collect();
        assert!(linux.len() > 40, "rustc lists Linux targets");
        let chunks: Vec<&[&str]> = linux.chunks(linux.len().div_ceil(4)).collect();
        std::thread::scope(|scope| {
            for chunk in chunks {
                scope.spawn(move || {
                    for target in chunk {
                        let cfg = rustc(&["--print", "cfg", "--target", target]);
                        let musl = cfg.lines().any(|l| l == "target_env=\"musl\"");
                        assert_eq!(is_musl(target), musl, "{target}");
                    }
                });
            }
        });
        // The spelling the bundled-zlib rule once missed.
        assert!(is_musl("armv7-unknown-linux-musleabihf"));
        assert!(!is_musl("x86_64-unknown-linux-gnu"));
    }

    #[test]
    fn environment_variables_are_spelled_as_cargo_and_cc_read_them() {
        assert_eq!(
            cargo_target_var("armv7-unknown-linux-musleabihf", "RUSTFLAGS"),
            "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_RUSTFLAGS"
        );
        assert_eq!(
            cargo_target_var("x86_64-unknown-linux-gnu", "LINKER"),
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER"
        );
        assert_eq!(
            cc_var("CC", "aarch64-unknown-linux-musl"),
            "CC_aarch64_unknown_linux_musl"
        );
    }
}
