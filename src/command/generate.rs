//! `generate`: render the plan, then write the files (the Dockerfile, the scripts beside it, the `.dockerignore`)
//! or, with `--check`, compare them with the files on disk.

use crate::cli::GenerateArgs;
use crate::engine::ignore::{self, IgnoreFile};
use crate::error::Error;
use crate::files;
use crate::plan::Plan;
use crate::render::{self, GENERATED_MARKER};
use crate::ui::shell::Shell;

/// Writes (or checks) the Dockerfile, its scripts and `.dockerignore`, then the plan's notes: a failure shows its
/// error alone.
pub fn generate(plan: &Plan, args: &GenerateArgs, shell: &mut Shell) -> Result<i32, Error> {
    let dockerfile = render::render(plan);
    if args.check {
        let fresh = check(plan, &dockerfile, shell)?;
        notes(plan, shell);
        return Ok(fresh);
    }
    write(plan, &dockerfile, args.force, shell)?;
    notes(plan, shell);
    let stages: Vec<&str> = plan.images.iter().map(|i| i.stage.as_str()).collect();
    shell.status(
        "Planned",
        format!("{} image(s): {}", plan.images.len(), stages.join(", ")),
    );
    Ok(0)
}

/// What the user should know about the plan, and the binaries it leaves out.
fn notes(plan: &Plan, shell: &mut Shell) {
    for warning in &plan.warnings {
        shell.warn(warning);
    }
    for note in plan.notes.iter().cloned().chain(plan.unpinned_note()) {
        shell.note(note);
    }
    for skipped in &plan.skipped {
        shell.note(format!(
            "skipping binary `{}` of `{}`: {}",
            skipped.binary, skipped.package, skipped.reason
        ));
    }
}

/// `--check`: exit 0 when every file on disk is what would be written, else show the diffs and name the files.
fn check(plan: &Plan, dockerfile: &str, shell: &mut Shell) -> Result<i32, Error> {
    let scripts = render::scripts(&plan.dockerfile);
    let drifts = files::check(&plan.root, &plan.dockerfile, dockerfile, &scripts)?;
    if drifts.is_empty() {
        shell.status("Fresh", plan.root.join(&plan.dockerfile.path));
        return Ok(0);
    }
    for drift in &drifts {
        shell.raw(&drift.diff);
    }
    let names: Vec<String> = drifts
        .iter()
        .map(|d| format!("`{}`", d.path.strip_prefix(&plan.root).unwrap_or(&d.path)))
        .collect();
    Err(Error::Stale {
        count: drifts.len(),
        files: names.join(", "),
        command: plan.command.clone(),
    })
}

/// Writes every file, saying what happened to each; a kept `.dockerignore` is checked for what it lets in and
/// what it keeps out.
fn write(plan: &Plan, dockerfile: &str, force: bool, shell: &mut Shell) -> Result<(), Error> {
    let dockerignore = render::dockerignore(&plan.command, &plan.dockerfile);
    let scripts = render::scripts(&plan.dockerfile);
    let outcomes = files::write(
        &plan.root,
        &plan.dockerfile,
        dockerfile,
        &scripts,
        &dockerignore,
        force,
    )?;
    for outcome in &outcomes {
        match outcome {
            files::Change::Written(path) => shell.status("Wrote", path),
            files::Change::Unchanged(path) => shell.status("Unchanged", path),
            files::Change::Kept(path) => {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let whose = if text.starts_with(GENERATED_MARKER) {
                    "written by an earlier run and left as it is"
                } else {
                    "yours"
                };
                shell.status("Kept", format!("{path} ({whose}; --force replaces it)"));
            }
        }
    }
    // What the builds will read, by Docker's rule (which may be another file than the one kept).
    if let Some(IgnoreFile { path, parsed, .. }) = read_dockerignore(plan)? {
        let name = path.strip_prefix(&plan.root).unwrap_or(&path);
        let script = scripts.first().map(|s| s.path.as_path());
        for warning in ignore::dockerignore_warnings(
            Some(&parsed),
            name.as_str(),
            script,
            &plan.context.workspace_dir,
        ) {
            shell.warn(warning);
        }
        // The builder's Cargo finds the private registries only in the configuration the context carries.
        for registry in &plan.registries {
            let config = crate::paths::fold(&plan.context.workspace_dir.join(&registry.config));
            if parsed.excludes(config.as_str()) {
                shell.warn(format!(
                    "`{name}` keeps `{config}` out of the build context, and it declares the private registry `{}`: the builder's Cargo cannot find it; add `!{config}`",
                    registry.name
                ));
            }
        }
    }
    Ok(())
}

/// The `.dockerignore` Docker reads for the plan's Dockerfile (`<path>.dockerignore`, else the root one): its
/// path, text and parsed rules, when there is one.
pub(super) fn read_dockerignore(plan: &Plan) -> Result<Option<IgnoreFile>, Error> {
    ignore::read_dockerignore(&plan.context.root, &plan.dockerfile)
        .map_err(|(path, source)| Error::DockerIgnore { path, source })
}
