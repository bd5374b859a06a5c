//! The images one engine test creates, tagged uniquely for the test, and their removal by tag when the test
//! ends, failing or not.

use std::process::Command;

use super::docker::DOCKER_LIMIT;
use super::process::run_limited;

/// Every tag a test creates starts with `dz-<suite>-<pid>-<test>-`: unique to the suite (the test crate), the run
/// and the test. All of them are removed when the guard drops, also when the test fails; removal is by tag, never
/// by id, because another suite may have tagged the same image.
pub struct TestImages {
    pub prefix: String,
}

impl TestImages {
    pub fn new(test: &str) -> Self {
        Self {
            prefix: format!(
                "dz-{}-{}-{test}-",
                env!("CARGO_CRATE_NAME").replace('_', "-"),
                std::process::id()
            ),
        }
    }

    /// A `-t` template under this guard: `<prefix>{bin}:<tag>` (`tag` may hold `{version}`).
    pub fn template(&self, tag: &str) -> String {
        format!("{}{{bin}}:{tag}", self.prefix)
    }

    /// The reference of one image.
    pub fn tag(&self, image: &str, tag: &str) -> String {
        format!("{}{image}:{tag}", self.prefix)
    }

    /// The tags under this guard that exist now.
    pub fn existing(&self) -> Vec<String> {
        let mut command = Command::new("docker");
        command.args(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let Ok(listed) = run_limited(&mut command, DOCKER_LIMIT) else {
            return Vec::new();
        };
        listed
            .stdout
            .lines()
            .map(str::trim)
            .filter(|t| t.starts_with(&self.prefix))
            .map(String::from)
            .collect()
    }
}

impl Drop for TestImages {
    fn drop(&mut self) {
        // Never panic here: this also runs while a failing test unwinds, where a second panic aborts.
        let tags = self.existing();
        if tags.is_empty() {
            return;
        }
        let mut command = Command::new("docker");
        command.args(["rmi", "-f"]).args(&tags);
        match run_limited(&mut command, DOCKER_LIMIT) {
            Ok(out) if out.code == Some(0) => {}
            Ok(out) => eprintln!(
                "warning: failed to remove test images {tags:?}: {}",
                out.stderr.trim()
            ),
            Err(why) => eprintln!("warning: failed to remove test images {tags:?}: {why}"),
        }
    }
}
