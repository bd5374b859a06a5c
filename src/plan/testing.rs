//! The planner in unit tests: a workspace of [`crate::workspace::testing`] planned under settings a test
//! changes, as `plan_for` plans it (the configuration resolved first), and the parts of the plan tests read.

use super::{plan_for, BuilderStage, Image, Plan, PlanError};
use crate::config::Settings;
use crate::platform::{Platform, PlatformList};
use crate::workspace::Workspace;

/// `workspace` planned under the default settings changed by `set`.
pub fn planned(workspace: &Workspace, set: impl FnOnce(&mut Settings)) -> Result<Plan, PlanError> {
    let mut settings = Settings::default();
    set(&mut settings);
    plan_for(workspace, &settings)
}

/// `workspace` planned under the default settings; panics when it does not plan.
pub fn plan_of(workspace: &Workspace) -> Plan {
    planned(workspace, |_| {}).unwrap_or_else(|e| panic!("failed to plan: {e}"))
}

/// `--platform` with `platforms`.
pub fn on_platforms(settings: &mut Settings, platforms: &[Platform]) {
    settings.platforms = Some(PlatformList(platforms.to_vec()));
}

/// The image of `stage`; panics naming the stages there are.
pub fn image<'a>(plan: &'a Plan, stage: &str) -> &'a Image {
    plan.images
        .iter()
        .find(|i| i.stage == stage)
        .unwrap_or_else(|| panic!("no image `{stage}` in {:?}", stages(plan)))
}

/// The builder stage named `stage`; panics naming the builders there are.
pub fn builder<'a>(plan: &'a Plan, stage: &str) -> &'a BuilderStage {
    plan.builders
        .iter()
        .find(|b| b.stage == stage)
        .unwrap_or_else(|| {
            let names: Vec<&str> = plan.builders.iter().map(|b| b.stage.as_str()).collect();
            panic!("no builder `{stage}` in {names:?}")
        })
}

fn stages(plan: &Plan) -> Vec<&str> {
    plan.images.iter().map(|i| i.stage.as_str()).collect()
}
