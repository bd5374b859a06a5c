//! The lock every engine test holds while it runs, taken only once a Docker engine answers.
//!
//! Every test that needs an engine is `#[ignore]`d, with a reason that says how to run it, so a plain
//! `cargo test` runs the fast tests alone and never reports an engine test as passed without running it.
//! `cargo test -- --ignored` runs the engine tests (`--include-ignored` runs both kinds), on the engine the
//! Docker CLI's rules pick (`DOCKER_HOST`, ...): `.ci/run` does so once per engine it tests. An engine test that
//! runs without an engine fails, naming what did not answer: it never skips.
//!
//! While the test runs, the lock holds the engine for it: builds compete for the same two cores and the
//! engine's cache, so the engine tests of one test binary run one at a time (Cargo runs the binaries
//! themselves one after another). Tests that need no engine take no lock and still run in parallel.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::process::run_limited;

/// Held by the engine test that runs now.
static ENGINE_LOCK: Mutex<()> = Mutex::new(());

/// The longest `docker info` may take to answer.
const INFO_LIMIT: Duration = Duration::from_secs(30);

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

/// The engine's version (`docker info`'s `ServerVersion`); panics when no engine answers.
pub fn engine_version() -> &'static str {
    match engine_status() {
        Ok(version) => version,
        Err(why) => panic!(
            "this engine test needs a Docker engine, and none answered (DOCKER_HOST={:?}): {why}\n\
             hint: start one (`../shared/tools/local-engine all`), or run only the fast tests (`cargo test` \
             without `--ignored`)",
            std::env::var("DOCKER_HOST").unwrap_or_default()
        ),
    }
}

/// The engine, held by the calling test until the guard drops; panics when no engine answers.
pub fn engine_lock() -> MutexGuard<'static, ()> {
    engine_version();
    // A failed test poisons the lock; the engine is still fine for the next one.
    ENGINE_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
