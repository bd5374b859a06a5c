//! The build secrets in the Dockerfile (`build-secrets`): mounted by BuildKit in the cook and the final compile
//! only, exported there as variables for build scripts and proc macros, and never written into a layer.
//!
//! Cargo keeps what a build script declared with `rerun-if-env-changed`, value included, in its fingerprint
//! files, and rustc keeps `env!` values in its dep-info files: the cooked target directory is a layer (and part
//! of any cache image), so the cook ends by deleting every file of it that holds a secret's value. Cargo rebuilds
//! what is missing in the final compile, whose target directory is a cache mount, in no layer.

use std::fmt::Write as _;

use super::quote::comment_text;
use crate::model::{BuildSecret, CiService, SecretFrom};
use crate::plan::ci::{KNOWN_HOSTS_SECRET, SSH_KEY_SECRET};
use crate::plan::PrivateRegistry;

/// Where BuildKit mounts secret `<name>`.
pub fn secret_path(name: &str) -> String {
    format!("/run/secrets/{name}")
}

/// The id of the `known_hosts` secret: not a name `build-secrets` can hold (those are variable names).
pub const KNOWN_HOSTS_ID: &str = "dockerize-known-hosts";

/// The `RUN` flags that mount every secret, each `required`: a build without one fails in one line naming it
/// rather than running a build script without it. With git over ssh (`ssh`), the user's ssh agent too, and the
/// hosts' keys where Cargo and ssh look for them (a secret: no layer, and no cache key, holds them). Ends with a
/// space when not empty.
pub(super) fn mounts(secrets: &[BuildSecret], ssh: bool) -> String {
    let mut flags: String = secrets
        .iter()
        .map(|s| format!("--mount=type=secret,id={},required=true ", s.name))
        .collect();
    if ssh {
        flags.push_str(&format!(
            "--mount=type=ssh,required=true --mount=type=secret,id={KNOWN_HOSTS_ID},target=/root/.ssh/known_hosts,required=true "
        ));
    }
    flags
}

/// The step that exports every secret as its variable (the frontends of Engine 20.10 and 26.1 have no `env=` on
/// secret mounts). Cargo sends a token to a registry that requires one only through a credential provider named
/// in its configuration (`authenticated registries require a credential-provider to be configured`): for each
/// private registry, `cargo:token`, the provider that reads `CARGO_REGISTRIES_<NAME>_TOKEN`, set here rather than
/// in the user's `~/.cargo/config.toml`, which the builder does not see.
pub(super) fn export(secrets: &[BuildSecret], registries: &[PrivateRegistry]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let vars: Vec<String> = secrets
        .iter()
        .map(|s| format!("{}=\"$(cat {})\"", s.name, secret_path(&s.name)))
        .chain(registries.iter().map(|r| {
            format!(
                "{}=cargo:token",
                r.secret.replace("_TOKEN", "_CREDENTIAL_PROVIDER")
            )
        }))
        .collect();
    Some(format!("export {}", vars.join(" ")))
}

/// The step that deletes every file under `dir` holding a secret's value (see the module documentation).
pub(super) fn scrub(secrets: &[BuildSecret], dir: &str) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let values: Vec<String> = secrets.iter().map(|s| format!("\"${}\"", s.name)).collect();
    Some(format!(
        "for value in {}; do if [ -n \"$value\" ]; then grep -rlZF -e \"$value\" {dir} | xargs -0 -r rm -f --; fi; done",
        values.join(" ")
    ))
}

/// The header's lines: which secret ids and ssh the Dockerfile expects, as `docker build` is given them.
pub(super) fn header(
    out: &mut String,
    secrets: &[BuildSecret],
    ssh_hosts: &[String],
    registries: &[PrivateRegistry],
) {
    let own: Vec<&str> = secrets
        .iter()
        .filter(|s| !matches!(s.from, SecretFrom::Registry(_)))
        .map(|s| s.name.as_str())
        .collect();
    if !registries.is_empty() {
        let names: Vec<String> = registries
            .iter()
            .map(|r| format!("{} ({})", r.name, comment_text(&r.index)))
            .collect();
        let flags: Vec<String> = registries
            .iter()
            .map(|r| format!("--secret id={0},env={0}", r.secret))
            .collect();
        let _ = writeln!(
            out,
            "# Fetches crates from the private registries {} with their tokens: `docker build \\\n\
             #   {} ...`.",
            names.join(", "),
            flags.join(" \\\n#   ")
        );
    }
    if !own.is_empty() {
        let names = own;
        let _ = writeln!(
            out,
            "# Needs BuildKit and the secrets {}: `docker build --secret id=<name>,src=<file holding it> ...`\n\
             # (`cargo dockerize build` reads them as `build-secrets` in [workspace.metadata.dockerize] says).",
            names.join(", ")
        );
    }
    if !ssh_hosts.is_empty() {
        let _ = writeln!(
            out,
            "# Fetches git dependencies over ssh from {}: `docker build --ssh default \\\n\
             #   --secret id={KNOWN_HOSTS_ID},src=$HOME/.ssh/known_hosts ...` (the agent must hold a key they accept).",
            ssh_hosts.join(", ")
        );
    }
}

/// The header lines of a CI file naming what it reads besides the registries' credentials: a CI secret (GitHub) or
/// masked variable (GitLab) per build secret, of the same name, and with git over ssh the deploy key and the
/// servers' `known_hosts` lines.
pub(super) fn ci_note(
    out: &mut String,
    service: CiService,
    build_secrets: &[String],
    ssh_hosts: &[String],
) {
    // GitLab cannot mask a multi-line value such as a private key: the key is a protected variable instead.
    let (kind, key_kind) = match service {
        CiService::GithubActions => ("repository secrets", "repository secrets"),
        CiService::GitlabCi => ("masked CI/CD variables", "protected CI/CD variables"),
    };
    if !build_secrets.is_empty() {
        let _ = writeln!(
            out,
            "# The builds mount the build secrets {} (`build-secrets`): {kind} of the same names.",
            build_secrets.join(", ")
        );
    }
    if !ssh_hosts.is_empty() {
        let _ = writeln!(
            out,
            "# Git dependencies over ssh from {}: the {key_kind} {SSH_KEY_SECRET} (a deploy key) and\n\
             # {KNOWN_HOSTS_SECRET} (the servers' `known_hosts` lines, as checked by a person: no key is trusted blindly).",
            comment_text(&ssh_hosts.join(", "))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SecretFrom;

    fn secrets() -> Vec<BuildSecret> {
        ["API_KEY", "DATABASE_URL"]
            .iter()
            .map(|n| BuildSecret {
                name: n.to_string(),
                from: SecretFrom::Env(n.to_string()),
            })
            .collect()
    }

    #[test]
    fn nothing_without_secrets() {
        assert_eq!(mounts(&[], false), "");
        assert_eq!(export(&[], &[]), None);
        assert_eq!(scrub(&[], "./target"), None);
        let mut out = String::new();
        header(&mut out, &[], &[], &[]);
        assert_eq!(out, "");
    }

    #[test]
    fn mounted_required_exported_and_scrubbed() {
        let secrets = secrets();
        assert_eq!(
            mounts(&secrets, false),
            "--mount=type=secret,id=API_KEY,required=true --mount=type=secret,id=DATABASE_URL,required=true "
        );
        assert_eq!(
            mounts(&[], true),
            "--mount=type=ssh,required=true --mount=type=secret,id=dockerize-known-hosts,target=/root/.ssh/known_hosts,required=true "
        );
        assert_eq!(
            export(&secrets, &[]).unwrap(),
            r#"export API_KEY="$(cat /run/secrets/API_KEY)" DATABASE_URL="$(cat /run/secrets/DATABASE_URL)""#
        );
        let scrub = scrub(&secrets, "./target").unwrap();
        assert!(
            scrub.starts_with(r#"for value in "$API_KEY" "$DATABASE_URL"; do"#),
            "{scrub}"
        );
        assert!(
            scrub.contains("grep -rlZF -e \"$value\" ./target"),
            "{scrub}"
        );
    }

    #[test]
    fn a_registry_token_is_exported_with_the_provider_that_reads_it() {
        let registry = PrivateRegistry {
            name: "corp-internal".into(),
            index: "sparse+https://corp.example/\nRUN id".into(),
            config: ".cargo/config.toml".into(),
            secret: "CARGO_REGISTRIES_CORP_INTERNAL_TOKEN".into(),
        };
        let secrets = [BuildSecret {
            name: registry.secret.clone(),
            from: SecretFrom::Registry(registry.name.clone()),
        }];
        assert_eq!(
            export(&secrets, std::slice::from_ref(&registry)).unwrap(),
            "export CARGO_REGISTRIES_CORP_INTERNAL_TOKEN=\"$(cat /run/secrets/CARGO_REGISTRIES_CORP_INTERNAL_TOKEN)\" \
             CARGO_REGISTRIES_CORP_INTERNAL_CREDENTIAL_PROVIDER=cargo:token"
        );
        let mut out = String::new();
        header(&mut out, &secrets, &[], &[registry]);
        assert!(
            out.contains("--secret id=CARGO_REGISTRIES_CORP_INTERNAL_TOKEN,env=CARGO_REGISTRIES_CORP_INTERNAL_TOKEN"),
            "{out}"
        );
        assert!(!out.contains("Needs BuildKit and the secrets"), "{out}");
        assert!(out.lines().all(|l| l.starts_with('#')), "{out}");
    }
}
