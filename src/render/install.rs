//! The workflow's step that installs cargo-dockerize, as [`Install`] decides it.
//!
//! A plain `curl` and `sha256sum` in one shell step, no third-party action: the release archive for the runner
//! (`uname -sm`), its `.sha256` from the same release, the hash compared with the downloaded file's (a named
//! file, whatever the checksum file says), then the archive's directory on `GITHUB_PATH` for the later steps.
//! A runner without a prebuilt archive, or a download that fails, compiles the same version with
//! `cargo install --locked` and says so in a warning; a checksum that does not match fails the step.
//!
//! Every value comes from this build (version, repository, targets), never from a manifest; the URL still goes in
//! a single-quoted YAML scalar, and the names in single-quoted shell words.

use std::fmt::Write as _;

use super::workflow::yaml;
use crate::plan::install::{archive_stem, Install};

/// The download, once `name` holds the archive's name (empty: none for this runner), up to the fallback.
const DOWNLOAD: &str = r#"          cd "$RUNNER_TEMP"
          if [ -n "$name" ] && curl -fsSL --retry 3 -o "$name.tar.gz" "$DOCKERIZE_RELEASE/$name.tar.gz"; then
            curl -fsSL --retry 3 -o "$name.tar.gz.sha256" "$DOCKERIZE_RELEASE/$name.tar.gz.sha256"
            echo "$(cut -d ' ' -f 1 "$name.tar.gz.sha256")  $name.tar.gz" | sha256sum --check --strict
            tar -xzf "$name.tar.gz"
            "$RUNNER_TEMP/$name/cargo-dockerize" --version
            echo "$RUNNER_TEMP/$name" >> "$GITHUB_PATH"
          else
"#;

/// The step, indented for a job's `steps:`.
pub fn step(out: &mut String, install: &Install) {
    let Install {
        version,
        releases,
        prebuilt,
    } = install;
    let _ = writeln!(out, "      - name: Install cargo-dockerize {version}");
    let _ = writeln!(
        out,
        "        env:\n          DOCKERIZE_RELEASE: {}",
        yaml(&format!("{releases}/v{version}"))
    );
    out.push_str("        run: |\n          case \"$(uname -sm)\" in\n");
    for p in *prebuilt {
        let _ = writeln!(
            out,
            "            '{}') name='{}' ;;",
            p.uname,
            archive_stem(version, p.target)
        );
    }
    out.push_str("            *) name='' ;;\n          esac\n");
    out.push_str(DOWNLOAD);
    let _ = writeln!(
        out,
        "            echo \"::warning::no prebuilt cargo-dockerize {version} for $(uname -sm), or its download \
         failed: compiling it\"\n            cargo install cargo-dockerize --locked --version {version}\n          fi"
    );
}
