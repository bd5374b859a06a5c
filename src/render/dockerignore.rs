//! The ignore file we write when the workspace has none (`.dockerignore`, or `<Dockerfile>.dockerignore`: which
//! one is [`DockerfilePath`]'s decision). Reading one (the matcher the context packer uses) is the engine's
//! business: [`crate::engine::ignore`].
//!
//! Every pattern but the build's own files starts with `**/`, so it holds at any depth and for every layout: the
//! workspace at the context root, or below it when path dependencies widen the context (the file's patterns are
//! then relative to the context root, which Docker reads them from).

use std::fmt::Write as _;

use crate::model::GENERATED_MARKER;
use crate::plan::DockerfilePath;

/// Files that hold credentials by convention, kept out of the build context at any depth (a `COPY . .` would put
/// them into the builder's layers, hence into a pushed cache image and the CI cache), each with why. The guide's
/// list (`docs/src/tasks/first-image.md`) is this one (a test below compares them).
///
/// Only names that are credentials by convention, never a source input: a workspace that `include_bytes!`s a
/// certificate or a test key (`*.pem`, `*.key`, `*.p12`) must still build, so key material is recognised by the
/// names ssh and the credential stores give it, not by extension.
pub const SECRETS: &[(&str, &str)] = &[
    (
        ".cargo/credentials",
        "Cargo's registry tokens (the file's name before Rust 1.39)",
    ),
    (".cargo/credentials.toml", "Cargo's registry tokens"),
    (".netrc", "logins for curl, git and Cargo over HTTP"),
    (".git-credentials", "git's `store` credential helper"),
    (".npmrc", "npm's registry tokens"),
    (".pypirc", "PyPI's upload tokens"),
    (".docker/config.json", "the Docker CLI's registry logins"),
    (".ssh/", "ssh keys and their agent's configuration"),
    (".aws/", "AWS access keys"),
    (".gnupg/", "GnuPG's private keys"),
    (".env", "environment files for dotenv"),
    (".env.*", "environment files for dotenv, per stage"),
    ("id_rsa*", "ssh private keys under ssh-keygen's names"),
    ("id_ecdsa*", "ssh private keys under ssh-keygen's names"),
    ("id_ed25519*", "ssh private keys under ssh-keygen's names"),
];

/// The ignore file we write when the workspace has none: keeps build output, VCS data, credentials and our own
/// files out of the context, so the context is small, holds no secret, and a Dockerfile edit does not invalidate
/// `COPY . .`.
pub fn dockerignore(command: &str, dockerfile: &DockerfilePath) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{GENERATED_MARKER} {}. Edit freely: it is never overwritten",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "# unless you pass --force to `{command}`.");
    if !dockerfile.workspace_dir.as_str().is_empty() {
        let _ = writeln!(
            out,
            "# Patterns are relative to the build context, `{}` above the workspace: Docker (BuildKit) reads this file for `{}`.",
            up(dockerfile),
            dockerfile.path
        );
    }
    out.push_str(
        "\n# Build output\n**/target/\n\n# Version control and editors\n**/.git/\n**/.hg/\n**/.svn/\n**/.idea/\n**/.vscode/\n**/.DS_Store\n\
         \n# Credentials, at any depth (the guide says why each); re-include one with `!` if a build needs it\n",
    );
    for (pattern, _) in SECRETS {
        let _ = writeln!(out, "**/{pattern}");
    }
    out.push_str("\n# The build's own files: editing them must not invalidate `COPY . .`\n");
    let _ = writeln!(
        out,
        "{}\n{}",
        literal(dockerfile.from_context(dockerfile.path.as_str()).as_str()),
        literal(dockerfile.from_context(dockerfile.ignore.as_str()).as_str())
    );
    let _ = writeln!(
        out,
        "# Not `{}/`: the Dockerfile runs the scripts there, so they stay in the context.",
        super::scripts::dir_in_workspace(dockerfile)
    );
    out
}

/// `..`, `../..`: the context root from the workspace.
fn up(dockerfile: &DockerfilePath) -> String {
    let up: Vec<&str> = dockerfile
        .workspace_dir
        .components()
        .map(|_| "..")
        .collect();
    up.join("/")
}

/// A path as a pattern that matches it alone: glob characters and a leading `#` or `!` escaped with `\`, as
/// Docker's pattern matcher reads them (Go's `filepath.Match` on Unix).
fn literal(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (index, c) in path.chars().enumerate() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') || (index == 0 && matches!(c, '#' | '!')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // What the generated file keeps out, read back by the context packer's matcher: `crate::engine::ignore`.
    #[test]
    fn the_own_files_are_matched_literally() {
        assert_eq!(literal("d[1]/Docker*file?"), r"d\[1\]/Docker\*file\?");
        assert_eq!(literal("#x/!y"), r"\#x/!y");
    }

    #[test]
    fn the_guide_lists_every_credential_pattern() {
        let readme = include_str!("../../docs/src/tasks/first-image.md");
        let section = readme
            .split("## What the build context holds")
            .nth(1)
            .and_then(|rest| rest.split("\n#").next())
            .expect("the guide's section on the build context");
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
        for (pattern, _) in SECRETS {
            let quoted = format!("`{pattern}`");
            assert!(
                rows.iter()
                    .any(|row| row.split('|').nth(1).is_some_and(|c| c.contains(&quoted))),
                "the guide's table does not list {quoted}"
            );
        }
        let listed = rows
            .iter()
            .flat_map(|row| row.split('|').nth(1).unwrap_or_default().split(", "))
            .count();
        assert_eq!(
            listed,
            SECRETS.len(),
            "the guide lists a pattern the file does not have"
        );
    }
}
