//! Which crate sets a plan's images need: one [`CrateQuery`] per `cargo build` of its builders, with the same
//! target, `-p` packages and feature flags as that build, so the set [`crate::workspace::resolve_crates`] gives
//! for an image's package is what its binary was compiled with (features unify over a build's packages there
//! too). Pure; resolving is the caller's edge step, and only for the builds whose images want an SBOM.

use crate::plan::Plan;
use crate::workspace::CrateQuery;

/// One `cargo build` of a builder, as the resolve needs it, and the images whose binaries it compiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildCrates {
    /// The builder stage (`builder`, `builder-arm64`).
    pub builder: String,
    pub query: CrateQuery,
    /// Each image stage it compiles, with the package whose crate set the image's documents take.
    pub images: Vec<(String, String)>,
}

/// Every `cargo build` of `plan`'s builders, in the plan's order.
pub fn crate_queries(plan: &Plan) -> Vec<BuildCrates> {
    plan.builders
        .iter()
        .flat_map(|builder| {
            builder
                .invocations
                .iter()
                .map(move |invocation| BuildCrates {
                    builder: builder.stage.clone(),
                    query: CrateQuery {
                        triple: builder.triple.clone(),
                        packages: invocation.packages.clone(),
                        features: invocation.features.clone(),
                        all_features: invocation.all_features,
                        no_default_features: invocation.no_default_features,
                    },
                    images: invocation
                        .bins
                        .iter()
                        .filter_map(|(_, stage)| {
                            let image = plan.images.iter().find(|i| &i.stage == stage)?;
                            Some((stage.clone(), image.package.clone()))
                        })
                        .collect(),
                })
        })
        .collect()
}
