//! The images one test creates, and their removal: shared by the helper modules of every engine suite
//! (`tests/common` includes it as a module, `tests/support` by path).

use std::process::Command;

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
        let Ok(listed) = Command::new("docker")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .output()
        else {
            return Vec::new();
        };
        String::from_utf8_lossy(&listed.stdout)
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
        match Command::new("docker")
            .args(["rmi", "-f"])
            .args(&tags)
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!(
                "warning: failed to remove test images {tags:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(why) => eprintln!("warning: failed to remove test images {tags:?}: {why}"),
        }
    }
}
