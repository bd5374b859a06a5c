//! The gate every engine test opens with, and the lock that runs engine tests one at a time.
//!
//! `DOCKERIZE_E2E=0`: skip. `DOCKERIZE_E2E=1` (CI): an engine is required, and a missing one fails the test,
//! never a silent skip. Unset: run when `docker info` answers, else print one `skipping ...` line and pass, so
//! `cargo test` works on a laptop without Docker.
//!
//! When the test runs, the gate's guard holds the engine for it: builds compete for the same two cores and
//! the engine's cache, so the engine tests of one test binary run one at a time (Cargo runs the binaries
//! themselves one after another). Tests that need no engine take no gate and still run in parallel.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::process::run_limited;

/// Held by the engine test that runs now.
static ENGINE_LOCK: Mutex<()> = Mutex::new(());

/// The longest `docker info` may take to answer.
const INFO_LIMIT: Duration = Duration::from_secs(30);

/// Whether the tests must have an engine; `None` when they must be skipped (`DOCKERIZE_E2E=0`).
fn required() -> Option<bool> {
    match std::env::var("DOCKERIZE_E2E").as_deref() {
        Ok("0") => None,
        Ok("") | Err(_) => Some(false),
        Ok(_) => Some(true),
    }
}

/// `docker info`, once per test binary: `Ok(server version)` or why not.
fn engine_status() -> &'static Result<String, String> {
    static STATUS: OnceLock<Result<String, String>> = OnceLock::new();
    STATUS.get_or_init(|| {
        let mut command = Command::new("docker");
        command.args(["info", "--format", "{{.ServerVersion}}"]);
        match run_limited(&mut command, INFO_LIMIT) {
            Ok(out) if out.code == Some(0) && !out.stdout.trim().is_empty() => {
                Ok(out.stdout.trim().to_string())
            }
            Ok(out) => Err(format!(
                "`docker info` exited with {:?}: {}",
                out.code,
                out.stderr.trim()
            )),
            Err(why) => Err(format!("`docker info` could not run: {why}")),
        }
    })
}

/// The gate of the engine test `test`: `Some(guard)` to go on, holding the engine until the guard drops;
/// `None` (after one `skipping` line) when the test is to be skipped. Panics when `DOCKERIZE_E2E=1` and no
/// engine answers.
pub fn engine_gate(test: &str) -> Option<MutexGuard<'static, ()>> {
    let Some(required) = required() else {
        println!("skipping {test}: DOCKERIZE_E2E=0");
        return None;
    };
    if let Err(why) = engine_status() {
        assert!(
            !required,
            "DOCKERIZE_E2E=1 requires a Docker engine, but none answered: {why}"
        );
        println!("skipping {test}: no Docker engine (set DOCKERIZE_E2E=1 to require one)");
        return None;
    }
    // A failed test poisons the lock; the engine is still fine for the next one.
    Some(
        ENGINE_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}
