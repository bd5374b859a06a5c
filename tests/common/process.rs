//! Processes: the binary under test, and every run of a process with its output captured and a time limit
//! (a hung engine or tool must not eat CI's budget), as a [`Run`] that knows how to assert on itself.

use std::io::Read as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The longest any single run of the tool may take before the test kills it: a guard against a hang, not a
/// speed target (those are in the benchmarks). Most fixtures build cold in under a minute on 2 cores; the
/// cold build of `native-static`'s nine images (aws-lc, OpenSSL, SQLite, zstd, jemalloc... compiled from source)
/// took over 15 minutes on a 2-core machine shared with other builds, while CI's two engine lanes run side by side.
pub const RUN_LIMIT: Duration = Duration::from_secs(25 * 60);

/// The binary under test, called directly (`cargo-dockerize <args>`), without colour.
pub fn tool() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-dockerize"));
    command.env("NO_COLOR", "1").env_remove("CARGO_TERM_COLOR");
    command
}

/// `cargo-dockerize dockerize`: the form Cargo uses for `cargo dockerize`.
pub fn binary() -> Command {
    let mut command = tool();
    command.arg("dockerize");
    command
}

/// What a run of a process did.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Run {
    /// Everything about the run, for assertion messages.
    pub fn describe(&self, what: &str) -> String {
        format!(
            "`{what}`: exit code {:?} after {:.1}s\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.seconds, self.stdout, self.stderr
        )
    }

    pub fn assert_code(&self, code: i32, what: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}\n{}",
            self.describe(what)
        );
    }

    pub fn assert_success(&self, what: &str) {
        assert_eq!(self.code, Some(0), "failed\n{}", self.describe(what));
    }

    /// A failure after which stderr holds exactly one `error:` line (progress may come before it): exit
    /// `code`; returns the `error:` line.
    pub fn assert_one_error(&self, code: i32, what: &str) -> &str {
        self.assert_code(code, what);
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "`{what}`: expected one `error:` line\n--- stderr\n{}",
            self.stderr
        );
        errors[0]
    }

    /// A failure as users must see it: exit `code`, and stderr opening with exactly one `error:` line
    /// (causes, Cargo's own output and the hint are indented or prefixed otherwise).
    pub fn assert_error(&self, code: i32, what: &str) -> &str {
        let error = self.assert_one_error(code, what);
        assert!(
            self.stderr.starts_with("error: "),
            "`{what}`: the error must come first\n--- stderr\n{}",
            self.stderr
        );
        error
    }
}

/// Runs `command` to its end (at most [`RUN_LIMIT`]); panics when it cannot start or outlives the limit.
pub fn run(command: &mut Command) -> Run {
    run_limited(command, RUN_LIMIT).unwrap_or_else(|why| panic!("{why}"))
}

/// Runs `command` with its output captured; kills it and says so when it outlives `limit`.
pub fn run_limited(command: &mut Command, limit: Duration) -> Result<Run, String> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failed to start {command:?}: {e}"))?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_or_kill(&mut child, limit);
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&stdout.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    };
    match status {
        Some(_) => Ok(run),
        None => Err(format!(
            "killed after {limit:?}\n{}",
            run.describe(&format!("{command:?}"))
        )),
    }
}

/// Runs `command` (at most `limit`) for its raw stdout bytes (`docker export`); panics unless it succeeds.
pub fn run_bytes(command: &mut Command, limit: Duration) -> Vec<u8> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {command:?}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_or_kill(&mut child, limit);
    let bytes = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.is_some_and(|s| s.success()),
        "`{command:?}` failed ({status:?}): {}",
        String::from_utf8_lossy(&stderr)
    );
    bytes
}

/// Waits for `child` at most `limit`; `None` when it is still running then.
pub fn wait_limited(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child process") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`wait_limited`], killing the child (and reaping it) when it outlives `limit`.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let status = wait_limited(child, limit);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}
