//! The build secrets in the Dockerfile (`build-secrets`): mounted by BuildKit in the cook and the final compile
//! only, exported there as variables for build scripts and proc macros, and never written into a layer.
//!
//! Cargo keeps what a build script declared with `rerun-if-env-changed`, value included, in its fingerprint
//! files, and rustc keeps `env!` values in its dep-info files: the cooked target directory is a layer (and part
//! of any cache image), so the cook ends by deleting every file of it that holds a secret's value. Cargo rebuilds
//! what is missing in the final compile, whose target directory is a cache mount, in no layer.

use std::fmt::Write as _;

use crate::model::BuildSecret;

/// Where BuildKit mounts secret `<name>`.
pub fn secret_path(name: &str) -> String {
    format!("/run/secrets/{name}")
}

/// The `RUN` flags that mount every secret, each `required`: a build without one fails in one line naming it
/// rather than running a build script without it. Ends with a space when not empty.
pub(super) fn mounts(secrets: &[BuildSecret]) -> String {
    secrets
        .iter()
        .map(|s| format!("--mount=type=secret,id={},required=true ", s.name))
        .collect()
}

/// The step that exports every secret as its variable (the frontends of Engine 20.10 and 26.1 have no `env=` on
/// secret mounts).
pub(super) fn export(secrets: &[BuildSecret]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let vars: Vec<String> = secrets
        .iter()
        .map(|s| format!("{}=\"$(cat {})\"", s.name, secret_path(&s.name)))
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

/// The header's lines: which secret ids the Dockerfile expects, as `docker build` is given them.
pub(super) fn header(out: &mut String, secrets: &[BuildSecret]) {
    if secrets.is_empty() {
        return;
    }
    let names: Vec<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
    let _ = writeln!(
        out,
        "# Needs BuildKit and the secrets {}: `docker build --secret id=<name>,src=<file holding it> ...`\n\
         # (`cargo dockerize build` reads them as `build-secrets` in [workspace.metadata.dockerize] says).",
        names.join(", ")
    );
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
        assert_eq!(mounts(&[]), "");
        assert_eq!(export(&[]), None);
        assert_eq!(scrub(&[], "./target"), None);
        let mut out = String::new();
        header(&mut out, &[]);
        assert_eq!(out, "");
    }

    #[test]
    fn mounted_required_exported_and_scrubbed() {
        let secrets = secrets();
        assert_eq!(
            mounts(&secrets),
            "--mount=type=secret,id=API_KEY,required=true --mount=type=secret,id=DATABASE_URL,required=true "
        );
        assert_eq!(
            export(&secrets).unwrap(),
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
}
