//! The platforms images are built for, and what each means on the three sides it touches: Docker's name
//! (`linux/arm/v7`), Rust's target triples and what `cfg` says of them, and Debian's architecture, cross
//! compilers and library directories.
//!
//! Written out as one table, because each name is decided by a different project and none can be derived from
//! another (`arm64` is `aarch64` to Rust and GCC, `arm/v7` is `armhf` to Debian and `arm-linux-gnueabihf` to its
//! compilers, `ppc64le` is `ppc64el`). Only platforms for which rustup ships a standard library are here; the
//! one without a prebuilt musl target (`linux/s390x`) says so, and the planner turns that into glibc. Every
//! spelling of a target triple (whether it is musl, its `cfg` set, `CARGO_TARGET_<TRIPLE>_*`) is in [`triple`],
//! off this table; tests compare both with the installed `rustc`. Pure.

mod triple;

pub use triple::{cargo_target_var, cc_var, is_musl, LibcKind, Triple};

use serde::Serialize;

/// A platform the images can be built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(into = "&'static str")]
pub enum Platform {
    #[default]
    LinuxAmd64,
    LinuxArm64,
    LinuxArmV7,
    LinuxPpc64le,
    LinuxS390x,
    LinuxRiscv64,
}

/// Every row of the table, in the order `--help` and the error messages name them.
pub const ALL: [Platform; 6] = [
    Platform::LinuxAmd64,
    Platform::LinuxArm64,
    Platform::LinuxArmV7,
    Platform::LinuxPpc64le,
    Platform::LinuxS390x,
    Platform::LinuxRiscv64,
];

/// One row: what each project calls the platform.
struct Names {
    docker: &'static str,
    /// `$TARGETARCH$TARGETVARIANT`, as BuildKit sets them: the suffix of the per-platform builder stages and tags.
    suffix: &'static str,
    /// Other spellings Docker accepts for it.
    aliases: &'static [&'static str],
    /// Rust's glibc triple.
    gnu: &'static str,
    /// Rust's musl triple, where rustup ships a standard library for it.
    musl: Option<&'static str>,
    /// Whether Rust links its musl target statically by default (`crt-static` on): every one but riscv64's,
    /// which Rust links dynamically against a musl `scratch` does not have.
    musl_static: bool,
    /// What `cfg` says of the architecture, on either C library.
    cfg: ArchCfg,
    /// Debian's architecture (`dpkg --print-architecture`).
    debian: &'static str,
    /// GCC's triplet: the prefix of Debian's cross compilers and the multiarch library directory.
    gcc: &'static str,
    /// The directory of Debian's `musl-dev` for it, under `/usr/lib` and `/usr/include`; also the name the `cc`
    /// crate guesses for the target's C compiler (`<dir>-gcc`).
    musl_dir: &'static str,
    /// Whether Debian bookworm (the builder's release) has packages for it: riscv64 became an official port only
    /// with trixie, so its `-dev` libraries and `musl-dev` cannot be installed.
    debian_archive: bool,
}

/// What `rustc --print cfg` says of an architecture: `target_arch`, `target_abi`, pointer width, endianness, the
/// target features on by default and whether 128-bit atomics exist.
struct ArchCfg {
    arch: &'static str,
    abi: &'static str,
    width: &'static str,
    endian: &'static str,
    features: &'static [&'static str],
    atomic128: bool,
}

/// The table, one row per platform in the order of [`Platform`]'s variants (and of [`ALL`]).
const TABLE: [Names; 6] = [
    // Platform::LinuxAmd64
    Names {
        docker: "linux/amd64",
        suffix: "amd64",
        aliases: &["linux/x86_64", "linux/x86-64"],
        gnu: "x86_64-unknown-linux-gnu",
        musl: Some("x86_64-unknown-linux-musl"),
        musl_static: true,
        cfg: ArchCfg {
            arch: "x86_64",
            abi: "",
            width: "64",
            endian: "little",
            features: &["fxsr", "sse", "sse2"],
            atomic128: false,
        },
        debian: "amd64",
        gcc: "x86_64-linux-gnu",
        musl_dir: "x86_64-linux-musl",
        debian_archive: true,
    },
    // Platform::LinuxArm64
    Names {
        docker: "linux/arm64",
        suffix: "arm64",
        aliases: &["linux/aarch64", "linux/arm64/v8"],
        gnu: "aarch64-unknown-linux-gnu",
        musl: Some("aarch64-unknown-linux-musl"),
        musl_static: true,
        cfg: ArchCfg {
            arch: "aarch64",
            abi: "",
            width: "64",
            endian: "little",
            features: &["neon"],
            atomic128: true,
        },
        debian: "arm64",
        gcc: "aarch64-linux-gnu",
        musl_dir: "aarch64-linux-musl",
        debian_archive: true,
    },
    // Platform::LinuxArmV7
    Names {
        docker: "linux/arm/v7",
        suffix: "armv7",
        aliases: &["linux/armv7", "linux/armhf"],
        gnu: "armv7-unknown-linux-gnueabihf",
        musl: Some("armv7-unknown-linux-musleabihf"),
        musl_static: true,
        cfg: ArchCfg {
            arch: "arm",
            abi: "eabihf",
            width: "32",
            endian: "little",
            features: &[],
            atomic128: false,
        },
        debian: "armhf",
        gcc: "arm-linux-gnueabihf",
        musl_dir: "arm-linux-musleabihf",
        debian_archive: true,
    },
    // Platform::LinuxPpc64le
    Names {
        docker: "linux/ppc64le",
        suffix: "ppc64le",
        aliases: &["linux/ppc64el"],
        gnu: "powerpc64le-unknown-linux-gnu",
        musl: Some("powerpc64le-unknown-linux-musl"),
        musl_static: true,
        cfg: ArchCfg {
            arch: "powerpc64",
            abi: "elfv2",
            width: "64",
            endian: "little",
            features: &[],
            atomic128: false,
        },
        debian: "ppc64el",
        gcc: "powerpc64le-linux-gnu",
        musl_dir: "powerpc64le-linux-musl",
        debian_archive: true,
    },
    // Platform::LinuxS390x
    Names {
        docker: "linux/s390x",
        suffix: "s390x",
        aliases: &[],
        gnu: "s390x-unknown-linux-gnu",
        // Tier 3 in Rust: rustup has no standard library for it.
        musl: None,
        musl_static: true,
        cfg: ArchCfg {
            arch: "s390x",
            abi: "",
            width: "64",
            endian: "big",
            features: &[],
            atomic128: true,
        },
        debian: "s390x",
        gcc: "s390x-linux-gnu",
        musl_dir: "s390x-linux-musl",
        debian_archive: true,
    },
    // Platform::LinuxRiscv64
    Names {
        docker: "linux/riscv64",
        suffix: "riscv64",
        aliases: &[],
        gnu: "riscv64gc-unknown-linux-gnu",
        musl: Some("riscv64gc-unknown-linux-musl"),
        // Rust links riscv64's musl target dynamically by default; its builder turns `+crt-static` on.
        musl_static: false,
        cfg: ArchCfg {
            arch: "riscv64",
            abi: "",
            width: "64",
            endian: "little",
            features: &["a", "c", "m"],
            atomic128: false,
        },
        debian: "riscv64",
        gcc: "riscv64-linux-gnu",
        musl_dir: "riscv64-linux-musl",
        debian_archive: false,
    },
];

impl Platform {
    fn names(self) -> &'static Names {
        &TABLE[self as usize]
    }

    /// Docker's name, `linux/arm/v7`: what the engine's `platform` and the image index say.
    pub fn docker_name(self) -> &'static str {
        self.names().docker
    }

    /// `amd64`, `armv7`: `$TARGETARCH$TARGETVARIANT`, the suffix of per-platform stages and local tags.
    pub fn suffix(self) -> &'static str {
        self.names().suffix
    }

    /// The Rust target triple for this platform and C library; `None` for musl where Rust ships no standard
    /// library.
    pub fn triple(self, libc: LibcKind) -> Option<&'static str> {
        Triple::of(self, libc).map(Triple::name)
    }

    /// Debian's architecture name, `arm64`, `armhf`.
    pub fn debian_arch(self) -> &'static str {
        self.names().debian
    }

    /// GCC's triplet, `aarch64-linux-gnu`: Debian's cross compilers are `<it>-gcc`, its libraries in `/usr/lib/<it>`.
    pub fn gcc_triplet(self) -> &'static str {
        self.names().gcc
    }

    /// `aarch64-linux-musl`: where Debian's `musl-dev` of this architecture keeps its headers and libraries.
    pub fn musl_dir(self) -> &'static str {
        self.names().musl_dir
    }

    /// Whether the builder's Debian release has packages of this architecture (`musl-dev`, `-dev` libraries).
    pub fn in_debian_archive(self) -> bool {
        self.names().debian_archive
    }

    /// The Debian package of the cross compiler of `language` for this platform: `gcc-aarch64-linux-gnu`,
    /// `g++-aarch64-linux-gnu`. Debian spells `x86_64` with a hyphen in package names.
    pub fn cross_compiler_package(self, language: Language) -> String {
        let triplet = self.gcc_triplet().replace('_', "-");
        let compiler = match language {
            Language::C => "gcc",
            Language::Cpp => "g++",
        };
        format!("{compiler}-{triplet}")
    }

    /// The platform of a Docker name, an alias of one, or why not: the message names the supported platforms.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wanted = text.trim().to_ascii_lowercase();
        if let Some(found) = ALL.into_iter().find(|p| {
            let names = p.names();
            names.docker == wanted || names.aliases.contains(&wanted.as_str())
        }) {
            return Ok(found);
        }
        let supported = supported_list();
        match wanted.split_once('/') {
            Some((os, _)) if os != "linux" => Err(format!(
                "unsupported platform `{text}`: images are built for Linux only; supported: {supported}"
            )),
            _ => Err(format!(
                "unsupported platform `{text}`: supported: {supported}"
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.docker_name())
    }
}

impl From<Platform> for &'static str {
    fn from(platform: Platform) -> Self {
        platform.docker_name()
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// From Docker's name (or an alias), as it serialises: events name their platform, and deserialise again.
impl<'de> serde::Deserialize<'de> for Platform {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// A language a cross compiler compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    C,
    Cpp,
}

/// Whether images for `platforms` are cross-compiled, one builder per platform on the build platform: for every
/// list but `linux/amd64` alone, the default, which is built as it always was (one builder, no platform pinned).
pub fn cross_compiles(platforms: &[Platform]) -> bool {
    platforms != [Platform::LinuxAmd64]
}

/// `linux/amd64, linux/arm64, ...`: what error messages and `--help` offer.
pub fn supported_list() -> String {
    ALL.iter()
        .map(|p| p.docker_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A list of platforms as the user wrote it (`linux/amd64,linux/arm64`), parsed, in the given order (the first
/// is the one whose builder runs the `test` stage), with no platform twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformList(pub Vec<Platform>);

impl PlatformList {
    /// Parses each item; an empty list, an unknown platform or one named twice (also under two spellings) is
    /// an error naming it.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut seen: Vec<(Platform, &str)> = Vec::new();
        for item in items {
            let item = item.trim();
            if item.is_empty() {
                return Err("an empty platform in the list: separate platforms with single commas, e.g. `linux/amd64,linux/arm64`".into());
            }
            let platform = Platform::parse(item)?;
            if let Some((_, first)) = seen.iter().find(|(p, _)| *p == platform) {
                return Err(if *first == item {
                    format!("platform `{item}` is given twice")
                } else {
                    format!("platform `{platform}` is given twice, as `{first}` and `{item}`")
                });
            }
            seen.push((platform, item));
        }
        if seen.is_empty() {
            return Err(format!(
                "no platform given: name one or more of {}",
                supported_list()
            ));
        }
        Ok(Self(seen.into_iter().map(|(p, _)| p).collect()))
    }

    /// `linux/amd64,linux/arm64`: the form `--platform` takes and the engine's `platform` accepts.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(|p| p.docker_name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Default for PlatformList {
    fn default() -> Self {
        Self(vec![Platform::default()])
    }
}

impl std::str::FromStr for PlatformList {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.split(','))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_variants() {
        for (index, platform) in ALL.into_iter().enumerate() {
            assert_eq!(platform as usize, index);
        }
        assert_eq!(Platform::LinuxRiscv64.suffix(), "riscv64");
    }

    #[test]
    fn docker_names_and_aliases_parse_back() {
        for platform in ALL {
            assert_eq!(Platform::parse(platform.docker_name()), Ok(platform));
            for alias in platform.names().aliases {
                assert_eq!(Platform::parse(alias), Ok(platform), "{alias}");
            }
        }
        assert_eq!(Platform::parse("Linux/ARM64"), Ok(Platform::LinuxArm64));
    }

    #[test]
    fn bad_platforms_name_what_is_supported() {
        let sparc = Platform::parse("linux/sparc").unwrap_err();
        assert!(
            sparc.contains("`linux/sparc`") && sparc.contains("linux/arm/v7"),
            "{sparc}"
        );
        let windows = Platform::parse("windows/amd64").unwrap_err();
        assert!(windows.contains("Linux only"), "{windows}");
    }

    #[test]
    fn lists_keep_their_order_and_refuse_duplicates() {
        let list: PlatformList = "linux/arm64,linux/amd64".parse().unwrap();
        assert_eq!(list.0, [Platform::LinuxArm64, Platform::LinuxAmd64]);
        assert_eq!(list.joined(), "linux/arm64,linux/amd64");
        let twice = "linux/arm64,linux/aarch64"
            .parse::<PlatformList>()
            .unwrap_err();
        assert!(
            twice.contains("given twice, as `linux/arm64` and `linux/aarch64`"),
            "{twice}"
        );
        assert!("linux/amd64,linux/amd64"
            .parse::<PlatformList>()
            .unwrap_err()
            .contains("twice"));
        assert!("linux/amd64,"
            .parse::<PlatformList>()
            .unwrap_err()
            .contains("empty platform"));
    }

    #[test]
    fn every_platform_has_a_gnu_triple_and_s390x_has_no_musl_one() {
        for platform in ALL {
            assert!(platform
                .triple(LibcKind::Gnu)
                .unwrap()
                .contains("-unknown-linux-gnu"));
        }
        assert_eq!(Platform::LinuxS390x.triple(LibcKind::Musl), None);
        assert_eq!(
            Platform::LinuxArmV7.triple(LibcKind::Musl),
            Some("armv7-unknown-linux-musleabihf")
        );
        assert_eq!(
            Platform::LinuxAmd64.cross_compiler_package(Language::C),
            "gcc-x86-64-linux-gnu"
        );
    }

    /// Every triple of the table is one rustup lists (so `rustup target add` of it works).
    #[test]
    fn rustc_knows_every_triple() {
        let output = std::process::Command::new("rustc")
            .args(["--print", "target-list"])
            .output()
            .expect("run rustc");
        let known = String::from_utf8_lossy(&output.stdout);
        for platform in ALL {
            for triple in [
                platform.triple(LibcKind::Gnu),
                platform.triple(LibcKind::Musl),
            ]
            .into_iter()
            .flatten()
            {
                assert!(known.lines().any(|l| l == triple), "{triple}");
            }
        }
    }
}
