//! The script that installs cargo-dockerize, as [`Install`] decides it, for a GitHub workflow's step or a GitLab
//! job.
//!
//! A plain `curl` and `sha256sum`, no third-party action: the release archive for the runner (`uname -sm`), its
//! `.sha256` from the same release, the hash compared with the downloaded file's (a named file, whatever the
//! checksum file says), then the archive's directory on the `PATH` of the later steps (GitHub: `GITHUB_PATH`;
//! GitLab: the job's own shell, which runs every line of its script). A runner without a prebuilt archive, or a
//! download that fails, compiles the same version with `cargo install --locked` and says so in a warning; a
//! checksum that does not match fails the step. Nothing changes the directory the later lines run in.
//!
//! Every value comes from this build (version, repository, targets), never from a manifest; the URL still goes in
//! a single-quoted YAML scalar, and the names in single-quoted shell words.

use std::fmt::Write as _;

use super::workflow::yaml;
use crate::model::CiService;
use crate::plan::install::{archive_stem, Install};

/// The download, once `dir` holds where it goes and `name` the archive's name (empty: none for this runner), up
/// to the line that puts it on `PATH`.
const DOWNLOAD: &str = r#"if [ -n "$name" ] && curl -fsSL --retry 3 -o "$dir/$name.tar.gz" "$DOCKERIZE_RELEASE/$name.tar.gz"; then
  curl -fsSL --retry 3 -o "$dir/$name.tar.gz.sha256" "$DOCKERIZE_RELEASE/$name.tar.gz.sha256"
  echo "$(cut -d ' ' -f 1 "$dir/$name.tar.gz.sha256")  $dir/$name.tar.gz" | sha256sum --check --strict
  tar -xzf "$dir/$name.tar.gz" -C "$dir"
  "$dir/$name/cargo-dockerize" --version
"#;

/// The GitHub step, indented for a job's `steps:`.
pub fn step(out: &mut String, install: &Install) {
    let _ = writeln!(
        out,
        "      - name: Install cargo-dockerize {}",
        install.version
    );
    let _ = writeln!(
        out,
        "        env:\n          DOCKERIZE_RELEASE: {}",
        yaml(&release_url(install))
    );
    out.push_str("        run: |\n");
    for line in script(install, CiService::GithubActions).lines() {
        let _ = writeln!(out, "          {line}");
    }
}

/// Where the release's files are: `<releases>/v<version>`.
pub fn release_url(install: &Install) -> String {
    format!("{}/v{}", install.releases, install.version)
}

/// The script, unindented, with `DOCKERIZE_RELEASE` set by its caller to [`release_url`].
pub fn script(install: &Install, service: CiService) -> String {
    let Install {
        version,
        releases: _,
        prebuilt,
    } = install;
    let mut out = String::new();
    out.push_str(match service {
        CiService::GithubActions => "dir=\"$RUNNER_TEMP\"\n",
        CiService::GitlabCi => "dir=\"${TMPDIR:-/tmp}\"\n",
    });
    out.push_str("case \"$(uname -sm)\" in\n");
    for p in *prebuilt {
        let _ = writeln!(
            out,
            "  '{}') name='{}' ;;",
            p.uname,
            archive_stem(version, p.target)
        );
    }
    out.push_str("  *) name='' ;;\nesac\n");
    out.push_str(DOWNLOAD);
    let warning = format!(
        "no prebuilt cargo-dockerize {version} for $(uname -sm), or its download failed: compiling it"
    );
    match service {
        CiService::GithubActions => {
            out.push_str("  echo \"$dir/$name\" >> \"$GITHUB_PATH\"\nelse\n");
            let _ = writeln!(out, "  echo \"::warning::{warning}\"");
        }
        CiService::GitlabCi => {
            out.push_str("  export PATH=\"$dir/$name:$PATH\"\nelse\n");
            let _ = writeln!(out, "  echo \"warning: {warning}\" >&2");
        }
    }
    let _ = writeln!(
        out,
        "  cargo install cargo-dockerize --locked --version {version}\nfi"
    );
    out
}
