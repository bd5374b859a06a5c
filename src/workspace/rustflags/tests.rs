//! Flag resolution against each target's `cfg` set, in-process: configurations as text, triples of the table.

use std::collections::BTreeMap;

use super::*;
use crate::platform::{LibcKind, Platform};

const CONFIG: &str = ".cargo/config.toml";

fn triple(name: &str) -> Triple {
    Triple::parse(name).unwrap_or_else(|| panic!("{name} is in the table"))
}

fn config(text: &str) -> CargoConfig {
    CargoConfig::from_files([(CONFIG, text)])
}

fn no_env() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn texts(flags: &TargetFlags) -> Vec<&str> {
    flags.flags.iter().map(|f| f.text.as_str()).collect()
}

const MUSL: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";

#[test]
fn cfg_all_reaches_every_target_with_its_origin() {
    // The terminal editor's configuration that sent a dynamic musl binary to `scratch`.
    let config = config(
        "[target.'cfg(all())']\nrustflags = [\"--cfg\", \"tokio_unstable\", \"-C\", \"target-feature=-crt-static\"]\n",
    );
    for name in [MUSL, GNU, "armv7-unknown-linux-musleabihf"] {
        let flags = config.target_flags(triple(name), &no_env());
        assert_eq!(flags.level, FlagLevel::Target, "{name}");
        assert_eq!(
            flags.crt_static(),
            Some((
                false,
                "`target.'cfg(all())'.rustflags` in `.cargo/config.toml`"
            )),
            "{name}"
        );
        assert_eq!(texts(&flags)[..2], ["--cfg", "tokio_unstable"]);
    }
}

#[test]
fn a_triple_table_reaches_that_triple_only() {
    let config = config(&format!(
        "[target.{MUSL}]\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\n\
         [target.{GNU}]\nrustflags = \"-C target-feature=+crt-static\"\n"
    ));
    let musl = config.target_flags(triple(MUSL), &no_env());
    assert_eq!(
        musl.crt_static(),
        Some((
            false,
            "`target.x86_64-unknown-linux-musl.rustflags` in `.cargo/config.toml`"
        ))
    );
    assert_eq!(
        config
            .target_flags(triple(GNU), &no_env())
            .crt_static()
            .map(|(on, _)| on),
        Some(true)
    );
    let arm = config.target_flags(triple("aarch64-unknown-linux-musl"), &no_env());
    assert_eq!((arm.level, arm.crt_static()), (FlagLevel::Unset, None));
}

#[test]
fn cfg_expressions_are_evaluated_against_each_targets_cfg_set() {
    let config = config(
        "[target.'cfg(target_env = \"musl\")']\nrustflags = [\"--cfg\", \"on_musl\"]\n\
         [target.'cfg(target_arch = \"aarch64\")']\nrustflags = [\"--cfg\", \"on_arm64\"]\n\
         [target.'cfg(target_feature = \"crt-static\")']\nrustflags = [\"--cfg\", \"static_default\"]\n\
         [target.'cfg(not(unix))']\nrustflags = [\"--cfg\", \"never\"]\n",
    );
    let cfgs = |name: &str| -> Vec<String> {
        let flags = config.target_flags(triple(name), &no_env());
        cfg_flags(&flags.flags)
    };
    assert_eq!(cfgs(MUSL), ["on_musl", "static_default"]);
    assert!(cfgs(GNU).is_empty());
    assert_eq!(
        cfgs("aarch64-unknown-linux-musl"),
        ["on_arm64", "on_musl", "static_default"]
    );
    assert_eq!(cfgs("aarch64-unknown-linux-gnu"), ["on_arm64"]);
    // riscv64's musl target links dynamically by default: no `crt-static` in its set.
    assert_eq!(cfgs("riscv64gc-unknown-linux-musl"), ["on_musl"]);
}

#[test]
fn cfg_tables_see_the_flags_before_them_as_cargo_settles_them() {
    // `+crt-static` from the triple's table turns `target_feature = "crt-static"` on, which the cfg table reads;
    // `--cfg tokio_unstable` from one cfg table makes another hold.
    let config = config(&format!(
        "[target.{GNU}]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n\
         [target.'cfg(target_feature = \"crt-static\")']\nrustflags = [\"--cfg\", \"static_build\"]\n\
         [target.'cfg(all())']\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n\
         [target.'cfg(tokio_unstable)']\nrustflags = [\"-C\", \"target-cpu=native\"]\n"
    ));
    let gnu = config.target_flags(triple(GNU), &no_env());
    assert_eq!(
        cfg_flags(&gnu.flags),
        ["tokio_unstable", "static_build"],
        "{gnu:?}"
    );
    assert_eq!(gnu.target_cpu().map(|(cpu, _)| cpu), Some("native"));
    // `-crt-static` turns it off for musl, so the table does not hold there.
    let off = CargoConfig::from_files([(
        CONFIG,
        "[target.'cfg(all())']\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\n\
         [target.'cfg(target_feature = \"crt-static\")']\nrustflags = [\"--cfg\", \"static_build\"]\n",
    )]);
    let musl = off.target_flags(triple(MUSL), &no_env());
    assert!(cfg_flags(&musl.flags).is_empty(), "{musl:?}");
}

#[test]
fn target_flags_replace_build_flags_and_the_environment_replaces_both() {
    let text = format!(
        "[build]\nrustflags = [\"--cfg\", \"from_build\"]\n\
         [target.{GNU}]\nrustflags = [\"--cfg\", \"from_target\"]\n"
    );
    let config = config(&text);
    let gnu = config.target_flags(triple(GNU), &no_env());
    assert_eq!(
        (gnu.level, texts(&gnu)),
        (FlagLevel::Target, vec!["--cfg", "from_target"])
    );
    let musl = config.target_flags(triple(MUSL), &no_env());
    assert_eq!(
        (musl.level, texts(&musl)),
        (FlagLevel::Build, vec!["--cfg", "from_build"])
    );
    assert_eq!(
        musl.flags[1].origin,
        "`build.rustflags` in `.cargo/config.toml`"
    );
    // An empty target list counts as unset: build.rustflags apply.
    let empty = CargoConfig::from_files([(
        CONFIG,
        "[build]\nrustflags = [\"--cfg\", \"b\"]\n[target.'cfg(all())']\nrustflags = []\n",
    )]);
    assert_eq!(
        empty.target_flags(triple(GNU), &no_env()).level,
        FlagLevel::Build
    );
    // The builder's environment: RUSTFLAGS, even empty, wins over every file; the encoded form over it.
    let rustflags =
        config.target_flags(triple(GNU), &env(&[("RUSTFLAGS", "-C  target-cpu=native")]));
    assert_eq!(rustflags.level, FlagLevel::Environment);
    assert_eq!(texts(&rustflags), ["-C", "target-cpu=native"]);
    assert_eq!(rustflags.flags[0].origin, "`RUSTFLAGS` in build-env");
    assert!(config
        .target_flags(triple(GNU), &env(&[("RUSTFLAGS", "")]))
        .flags
        .is_empty());
    let encoded = config.target_flags(
        triple(GNU),
        &env(&[
            ("RUSTFLAGS", "--cfg x"),
            (
                "CARGO_ENCODED_RUSTFLAGS",
                "-C\x1ftarget-feature=+crt-static",
            ),
        ]),
    );
    assert_eq!(encoded.crt_static().map(|(on, _)| on), Some(true));
}

#[test]
fn lists_join_outermost_first_and_the_environment_after_the_files() {
    let config = CargoConfig::from_files([
        (
            "../.cargo/config.toml",
            &*format!("[build]\nrustflags = [\"--cfg\", \"outer\"]\n[target.{GNU}]\nrustflags = [\"--cfg\", \"outer_gnu\"]\nlinker = \"outer-cc\"\n"),
        ),
        (
            CONFIG,
            &*format!("[build]\nrustflags = [\"--cfg\", \"inner\"]\n[target.{GNU}]\nrustflags = [\"--cfg\", \"inner_gnu\"]\nlinker = \"inner-cc\"\n[target.'cfg(all())']\nrustflags = [\"--cfg\", \"all\"]\n"),
        ),
    ]);
    let musl_env = env(&[("CARGO_BUILD_RUSTFLAGS", "--cfg from_env")]);
    let musl = CargoConfig::from_files([
        (
            "../.cargo/config.toml",
            "[build]\nrustflags = [\"--cfg\", \"outer\"]\n",
        ),
        (CONFIG, "[build]\nrustflags = [\"--cfg\", \"inner\"]\n"),
    ])
    .target_flags(triple(MUSL), &musl_env);
    assert_eq!(cfg_flags(&musl.flags), ["outer", "inner", "from_env"]);
    let gnu_env = env(&[(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
        "--cfg from_env",
    )]);
    let gnu = config.target_flags(triple(GNU), &gnu_env);
    assert_eq!(
        cfg_flags(&gnu.flags),
        ["outer_gnu", "inner_gnu", "from_env", "all"]
    );
    // The deepest file's linker, unless the environment names one.
    let linker = gnu.linker.expect("a linker");
    assert_eq!(
        (linker.text.as_str(), linker.origin.as_str()),
        (
            "inner-cc",
            "`target.x86_64-unknown-linux-gnu.linker` in `.cargo/config.toml`"
        )
    );
    let by_env = env(&[("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", "env-cc")]);
    assert_eq!(
        config
            .target_flags(triple(GNU), &by_env)
            .linker
            .map(|l| l.text),
        Some("env-cc".to_string())
    );
    let cfg_linker = CargoConfig::from_files([(
        CONFIG,
        "[target.'cfg(target_arch = \"aarch64\")']\nlinker = \"clang\"\n",
    )]);
    let arm = Platform::LinuxArm64;
    for libc in [LibcKind::Musl, LibcKind::Gnu] {
        let arm = Triple::of(arm, libc).expect("arm64 has both");
        assert_eq!(
            cfg_linker
                .target_flags(arm, &no_env())
                .linker
                .map(|l| l.text),
            Some("clang".to_string())
        );
    }
    assert_eq!(cfg_linker.target_flags(triple(GNU), &no_env()).linker, None);
}

#[test]
fn codegen_options_are_read_in_every_spelling() {
    let flags = |texts: &[&str]| TargetFlags {
        flags: texts
            .iter()
            .map(|t| Flag {
                text: t.to_string(),
                origin: "here".into(),
            })
            .collect(),
        level: FlagLevel::Target,
        linker: None,
    };
    assert_eq!(
        flags(&["-Ctarget-cpu=native"]).target_cpu(),
        Some(("native", "here"))
    );
    assert_eq!(
        flags(&["--codegen=target-cpu=x86-64-v3"])
            .target_cpu()
            .map(|c| c.0),
        Some("x86-64-v3")
    );
    assert_eq!(
        flags(&["--codegen", "target-cpu=znver4"])
            .target_cpu()
            .map(|c| c.0),
        Some("znver4")
    );
    assert_eq!(
        flags(&["-C", "target-feature=+avx2,-crt-static"]).crt_static(),
        Some((false, "here"))
    );
    assert_eq!(
        flags(&[
            "-Ctarget-feature=-crt-static",
            "-C",
            "target-feature=+crt-static"
        ])
        .crt_static()
        .map(|c| c.0),
        Some(true)
    );
    // Not codegen options: `--cfg`, `-L`, a value that only mentions the feature.
    assert_eq!(
        flags(&[
            "--cfg",
            "crt_static",
            "-L",
            "native=/lib",
            "-C",
            "link-arg=-Wl,-crt-static"
        ])
        .crt_static(),
        None
    );
    assert_eq!(flags(&["--crate-type", "bin"]).target_cpu(), None);
}

#[test]
fn build_target_is_the_deepest_files_unless_the_environment_sets_it() {
    let config = CargoConfig::from_files([
        (
            "../.cargo/config",
            "[build]\ntarget = [\"wasm32-unknown-unknown\", \"x86_64-unknown-linux-gnu\"]\n",
        ),
        (CONFIG, "[build]\ntarget = \"aarch64-unknown-linux-musl\"\n"),
    ]);
    assert_eq!(
        config.build_target(&no_env()),
        Some((
            vec!["aarch64-unknown-linux-musl".to_string()],
            "`build.target` in `.cargo/config.toml`".to_string()
        ))
    );
    assert_eq!(
        config.build_target(&env(&[("CARGO_BUILD_TARGET", "x86_64-unknown-linux-musl")])),
        Some((
            vec![MUSL.to_string()],
            "`CARGO_BUILD_TARGET` in build-env".to_string()
        ))
    );
    assert_eq!(CargoConfig::default().build_target(&no_env()), None);
}
