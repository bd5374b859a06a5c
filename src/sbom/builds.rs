//! Which crate set each build's documents take: for every build of the plan's list ([`Plan::builds`]: image ×
//! platform × variant), the `cargo build` of the builder that compiles its binary for its target, as a
//! [`CrateQuery`] with the same target, `-p` packages and feature flags, so the set
//! [`crate::workspace::resolve_crates`] gives for the image's package is what its binary was compiled with
//! (features unify over a build's packages there too). Both variants of an image copy the same binary (the
//! debug one unstripped), so they take the same set. Pure; resolving is the caller's edge step, once per
//! distinct query ([`distinct_queries`]), and only for the builds that want an SBOM.

use crate::plan::{Build, Plan};
use crate::workspace::CrateQuery;

/// One build of the plan's list and the crates of its binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildCrates {
    /// The build's name in the list (`api`, `api@arm64`, `api-debug`).
    pub build: String,
    /// The image's package: whose set of the query's answer the build's documents take.
    pub package: String,
    /// The `cargo build` that compiles the binary, on the build's target.
    pub query: CrateQuery,
}

/// The crates of every build of `plan`'s list, in the list's order. A build whose binary no builder compiles
/// (none in a plan the planner made) has no entry.
pub fn crate_queries(plan: &Plan) -> Vec<BuildCrates> {
    plan.builds
        .images
        .iter()
        .filter_map(|build| build_crates(plan, build))
        .collect()
}

/// The distinct queries of `builds`, in order of first use: what the edge step resolves, one `cargo tree` each.
pub fn distinct_queries(builds: &[BuildCrates]) -> Vec<&CrateQuery> {
    let mut queries: Vec<&CrateQuery> = Vec::new();
    for build in builds {
        if !queries.contains(&&build.query) {
            queries.push(&build.query);
        }
    }
    queries
}

/// The crates of one build: the image whose stage (either variant's) it builds, and the invocation of the
/// builder for its target that compiles that image's binary.
fn build_crates(plan: &Plan, build: &Build) -> Option<BuildCrates> {
    let image = plan
        .images
        .iter()
        .find(|i| i.stage == build.stage || i.debug.stage == build.stage)?;
    let invocation = plan
        .builders
        .iter()
        .filter(|b| b.triple == build.triple)
        .flat_map(|b| &b.invocations)
        .find(|i| i.bins.iter().any(|(_, stage)| *stage == image.stage))?;
    Some(BuildCrates {
        build: build.name.clone(),
        package: image.package.clone(),
        query: CrateQuery {
            triple: build.triple.clone(),
            packages: invocation.packages.clone(),
            features: invocation.features.clone(),
            all_features: invocation.all_features,
            no_default_features: invocation.no_default_features,
        },
    })
}
