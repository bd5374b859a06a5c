//! The `.dockerignore` we write when the workspace has none. Reading one (the matcher the context packer
//! uses) is the engine's business: [`crate::engine::ignore`].

use std::fmt::Write as _;

use crate::model::GENERATED_MARKER;
use crate::plan::DockerfilePath;

/// The `.dockerignore` we write when the workspace has none: keeps build output, VCS data, secrets and our own
/// files out of the context, so the context is small and a Dockerfile edit does not invalidate `COPY . .`.
pub fn dockerignore(command: &str, dockerfile: &DockerfilePath) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{GENERATED_MARKER} {}. Edit freely: it is never overwritten",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "# unless you pass --force to `{command}`.");
    out.push_str(
        "\n# Build output\ntarget/\n**/target/\n\n# Version control and editors\n.git/\n**/.git/\n.hg/\n.svn/\n.idea/\n.vscode/\n**/.DS_Store\n\
         \n# Secrets\n.env\n.env.*\n**/.env\n**/.env.*\n**/*.pem\n**/*.key\n**/*.p12\n**/*.pfx\n**/id_rsa*\n**/id_ed25519*\n.aws/\n.ssh/\n\
         \n# The build's own files: editing them must not invalidate `COPY . .`\n",
    );
    let _ = writeln!(out, "{}\n{}", dockerfile.path, dockerfile.ignore);
    let _ = writeln!(
        out,
        "# Not `{}/`: the Dockerfile runs the scripts there, so they stay in the context.",
        super::scripts::dir_in_workspace(dockerfile)
    );
    out
}
