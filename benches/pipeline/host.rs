//! The physical limit: `cargo build --release` on the host for the one binary, with what (a) builds with (the
//! `release` profile, `--locked`, the fixture's target, `-C target-feature=+crt-static` for target crates), in
//! the variant's own checkout and target directory. No engine, no context, no image: the compile alone.
//!
//! Cold is a fresh target directory (deleted before the build, untimed); Cargo's registry (`$CARGO_HOME`) stays as
//! it is, so a cold host build downloads nothing the machine already has. The other scenarios reuse the target
//! directory, as a developer's checkout does.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::dockerfiles;
use crate::fixture::Fixture;
use crate::records::Run;

/// Variables of the bench's own environment that would change what the host build does.
const CLEARED: [&str; 6] = [
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_JOBS",
    "RUSTC_WRAPPER",
];

/// One timed `cargo build --release` of the first binary in `dir`; `cold`: from an empty target directory.
pub fn build(dir: &Path, fixture: &Fixture, cold: bool) -> Run {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    timed_build(dir, fixture, cold, Command::new(&cargo), &fixture.triple)
}

/// The aarch64 toolchain of the emulated variant, run under qemu through binfmt_misc: the fixture's release when
/// it names one (`1.95`), else the host's (`rust:1` here is the host's toolchain, as local-engine makes it).
fn emulated_toolchain(fixture: &Fixture) -> String {
    let release = if fixture.rust_version.contains('.') {
        fixture.rust_version.clone()
    } else {
        let output = Command::new("rustc").arg("--version").output();
        output
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .nth(1)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "stable".into())
    };
    format!("{release}-aarch64-unknown-linux-gnu")
}

/// The emulated anchor: the same `cargo build` for `aarch64-unknown-linux-gnu` (static), with an aarch64 `cargo`
/// and `rustc` that qemu runs (Debian's `qemu-user-static` through binfmt_misc; they load the host's multiarch
/// arm64 glibc, zlib and libstdc++), linked by Debian's cross gcc: what an emulated `docker build --platform
/// linux/arm64` spends compiling. The toolchain is installed with rustup when missing (untimed).
pub fn build_emulated(dir: &Path, fixture: &Fixture, cold: bool) -> Run {
    let toolchain = emulated_toolchain(fixture);
    let installed = Command::new("rustup")
        .args(["run", &toolchain, "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        let mut install = Command::new("rustup");
        install.args([
            "toolchain",
            "install",
            &toolchain,
            "--force-non-host",
            "--profile",
            "minimal",
        ]);
        if let Err(message) = crate::stdout_of(&mut install, "rustup toolchain install") {
            let mut run = Run::default();
            run.fail(&message);
            return run;
        }
    }
    let mut command = Command::new("rustup");
    command.args(["run", &toolchain, "cargo"]).env(
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
        "aarch64-linux-gnu-gcc",
    );
    timed_build(dir, fixture, cold, command, "aarch64-unknown-linux-gnu")
}

/// `command` (a `cargo`) with `build --release` of the first binary for `triple`, timed.
fn timed_build(
    dir: &Path,
    fixture: &Fixture,
    cold: bool,
    mut command: Command,
    triple: &str,
) -> Run {
    let mut run = Run::default();
    let target_dir = dir.join("target");
    if cold && target_dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&target_dir) {
            run.fail(&format!("failed to remove {}: {e}", target_dir.display()));
            return run;
        }
    }
    let (flags_var, flags) = dockerfiles::static_rustflags(triple);
    command
        .args(["build", "--locked", "--release", "--target", triple])
        .args(["--bin", &fixture.one().name])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env(flags_var, flags)
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never");
    for name in CLEARED {
        command.env_remove(name);
    }
    let started = Instant::now();
    let output = command.output();
    run.seconds = started.elapsed().as_secs_f64();
    match output {
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            run.log.extend(stderr.lines().map(str::to_string));
            if !output.status.success() {
                let what = format!("`cargo build --release` exited with {}", output.status);
                run.fail(&crate::tail(&what, &stderr));
            }
        }
        Err(e) => run.fail(&format!("failed to run cargo: {e}")),
    }
    run
}
