//! The ssh side of a build with git dependencies over ssh: the user's agent (`SSH_AUTH_SOCK`), checked before
//! anything is written or sent, and the host keys the builder checks the servers against.
//!
//! Host keys come from the user's own `~/.ssh/known_hosts`, never from a first connection (no blind trust): the
//! lines that name one of the plan's hosts, and every hashed line (`|1|...`, which cannot be matched without
//! hashing each host, and names no host to whoever reads it). A host with no line, where the file has no hashed
//! lines, is an error before the build. They reach the builder as a secret mounted at `/root/.ssh/known_hosts`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::engine::session::SecretValue;
use crate::error::Error;
use crate::render::KNOWN_HOSTS_ID;

/// What the session serves for git over ssh: the agent socket to forward as `default`, and the `known_hosts`
/// secret; both empty when no dependency is fetched over ssh.
#[derive(Default)]
pub(super) struct Forwarding {
    pub agents: BTreeMap<String, PathBuf>,
    pub known_hosts: BTreeMap<String, SecretValue>,
}

/// [`Forwarding`] for `hosts`, every part checked.
pub(super) fn forwarding(hosts: &[String]) -> Result<Forwarding, Error> {
    if hosts.is_empty() {
        return Ok(Default::default());
    }
    let failed = |why: String| Error::SshForward {
        hosts: hosts.join(", "),
        why,
    };
    let socket = std::env::var_os("SSH_AUTH_SOCK")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            failed("`SSH_AUTH_SOCK` is not set: no ssh agent runs for this shell".into())
        })?;
    std::os::unix::net::UnixStream::connect(&socket).map_err(|e| {
        failed(format!(
            "the ssh agent at `SSH_AUTH_SOCK` ({}) does not answer: {e}",
            socket.display()
        ))
    })?;
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| failed("`HOME` is not set, so there is no `~/.ssh/known_hosts`".into()))?;
    let file = home.join(".ssh/known_hosts");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| failed(format!("failed to read `{}`: {e}", file.display())))?;
    let kept = known_hosts_for(&text, hosts)
        .map_err(|host| failed(format!("`{}` has no key for `{host}`", file.display())))?;
    Ok(Forwarding {
        agents: BTreeMap::from([(
            crate::engine::session::services::DEFAULT_SSH_ID.to_string(),
            socket,
        )]),
        known_hosts: BTreeMap::from([(KNOWN_HOSTS_ID.to_string(), SecretValue(kept.into_bytes()))]),
    })
}

/// The lines of `text` (a `known_hosts`) for `hosts`, and every hashed line; `Err(host)` for a host no line
/// names when there is no hashed line that could.
fn known_hosts_for(text: &str, hosts: &[String]) -> Result<String, String> {
    let mut kept = String::new();
    let mut named = vec![false; hosts.len()];
    let mut hashed = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut fields = trimmed.split_whitespace();
        let first = fields.next().unwrap_or_default();
        let patterns = if first.starts_with('@') {
            fields.next().unwrap_or_default()
        } else {
            first
        };
        if patterns.starts_with("|1|") {
            hashed = true;
            kept.push_str(trimmed);
            kept.push('\n');
            continue;
        }
        let mut matched = false;
        for (i, host) in hosts.iter().enumerate() {
            if patterns.split(',').any(|p| p == host) {
                named[i] = true;
                matched = true;
            }
        }
        if matched {
            kept.push_str(trimmed);
            kept.push('\n');
        }
    }
    match named.iter().position(|n| !n) {
        Some(i) if !hashed => Err(hosts[i].clone()),
        _ => Ok(kept),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hosts_lines_and_hashed_ones_are_kept() {
        let text = "# mine\n\
                    github.com ssh-ed25519 AAAAgh\n\
                    [127.0.0.1]:2222,other ssh-ed25519 AAAAlocal\n\
                    git.example.com ssh-rsa AAAAex\n";
        let hosts = vec![
            "[127.0.0.1]:2222".to_string(),
            "git.example.com".to_string(),
        ];
        assert_eq!(
            known_hosts_for(text, &hosts).unwrap(),
            "[127.0.0.1]:2222,other ssh-ed25519 AAAAlocal\ngit.example.com ssh-rsa AAAAex\n"
        );
        let missing = vec!["git.example.org".to_string()];
        assert_eq!(
            known_hosts_for(text, &missing).unwrap_err(),
            "git.example.org"
        );
        let hashed = "|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAh\n";
        assert_eq!(known_hosts_for(hashed, &missing).unwrap(), hashed);
    }
}
