//! `ci`: decide the workflow from the plan, render it, then write it or, with `--check`, compare it with the file
//! on disk.

use crate::cli::CiArgs;
use crate::config::Settings;
use crate::error::Error;
use crate::files;
use crate::model::CiService;
use crate::plan::ci::{ci_plan, default_file};
use crate::plan::Plan;
use crate::render;
use crate::ui::shell::Shell;

/// Writes (or checks) the workflow; says when the Dockerfile it checks is not written yet or stale.
pub fn ci(
    plan: &Plan,
    settings: &Settings,
    args: &CiArgs,
    shell: &mut Shell,
) -> Result<i32, Error> {
    let service = args.service();
    let default = default_file(service);
    let path = args
        .workflow
        .as_deref()
        .map(crate::paths::fold)
        .unwrap_or_else(|| default.into());
    let named = (path != default).then_some(path.as_path());
    let ci = ci_plan(plan, service, &path, settings.ci_command(service, named))?;
    let text = match service {
        CiService::GithubActions => render::workflow(&ci),
        CiService::GitlabCi => render::pipeline(&ci),
    };
    let file = crate::paths::normalize(&plan.root.join(&ci.workflow));
    if args.check {
        return match files::check_owned(&file, &text)? {
            None => {
                shell.status("Fresh", &file);
                Ok(0)
            }
            Some(drift) => {
                shell.raw(&drift.diff);
                Err(Error::Stale {
                    count: 1,
                    files: format!("`{}`", drift.path),
                    command: ci.command,
                })
            }
        };
    }
    // The repository root: the workflow may sit above the workspace, never through a symlink out of the repository.
    let mut repository = plan.root.clone();
    for _ in ci.workspace_dir.components() {
        repository.pop();
    }
    let outcome = files::write_owned(
        &repository,
        &file,
        &text,
        args.force,
        match service {
            CiService::GithubActions => "write ours elsewhere: `--workflow .github/workflows/<name>.yml`",
            CiService::GitlabCi => "write ours under another name (`--workflow dockerize.gitlab-ci.yml`) and `include:` it from yours",
        },
    )?;
    match outcome {
        files::Change::Written(path) => shell.status("Wrote", path),
        files::Change::Unchanged(path) | files::Change::Kept(path) => {
            shell.status("Unchanged", path)
        }
    }
    let hosts: Vec<&str> = ci.logins.iter().map(|l| l.host.as_str()).collect();
    shell.status(
        "Planned",
        format!(
            "{} image(s) in the matrix, pushed to {} on the default branch and `v*` tags",
            ci.images.len(),
            hosts.join(", ")
        ),
    );
    let dockerfile = render::render(plan);
    let scripts = render::scripts(&plan.dockerfile);
    if !files::check(&plan.root, &plan.dockerfile, &dockerfile, &scripts)?.is_empty() {
        shell.warn(format!(
            "the workflow checks that `{}` is current, and it is not: run `{}` and commit it with the workflow",
            plan.dockerfile.path, plan.command
        ));
    }
    Ok(0)
}
