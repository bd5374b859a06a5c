//! Which binaries the Dockerfile holds and which the command line selects, on built workspaces: Cargo's
//! selection rules, `required-features`, `skip` and the cargo-xtask convention, and errors that name the
//! package, binary, feature or profile at fault.

use serde_json::json;

use super::*;
use crate::plan::testing::{plan_of, planned};
use crate::plan::{Plan, PlanError};
use crate::workspace::testing::{pkg, ws};
use crate::workspace::Workspace;

/// `api` (binaries `api` and `admin`), `worker` (`worker`), `common` (none).
fn services() -> Workspace {
    ws().member(pkg("api").bin("api").bin("admin"))
        .member(pkg("worker").bin("worker"))
        .member(pkg("common"))
        .build()
}

fn images(plan: &Plan) -> Vec<&str> {
    plan.images.iter().map(|i| i.stage.as_str()).collect()
}

/// `tools` with `gated`, which requires `extra` (not a default feature), and `open`.
fn gated(features: &[(&str, &[&str])]) -> Workspace {
    let mut tools = pkg("tools").bin("open").bin_requiring("gated", &["extra"]);
    for (name, enables) in features {
        tools = tools.feature(name, enables);
    }
    ws().member(tools).build()
}

#[test]
fn the_dockerfile_holds_every_binary_and_the_default_selection_every_default_member() {
    let plan = plan_of(&services());
    assert_eq!(images(&plan), ["admin", "api", "worker"]);
    assert_eq!(plan.selected, ["admin", "api", "worker"]);
    let narrowed = services_with_default_members(&["worker"]);
    let plan = plan_of(&narrowed);
    assert_eq!(
        images(&plan),
        ["admin", "api", "worker"],
        "the file never narrows"
    );
    assert_eq!(plan.selected, ["worker"]);
}

fn services_with_default_members(names: &[&str]) -> Workspace {
    ws().member(pkg("api").bin("api").bin("admin"))
        .member(pkg("worker").bin("worker"))
        .default_members(names)
        .build()
}

#[test]
fn the_current_package_comes_before_the_default_members() {
    let workspace = ws()
        .member(pkg("api").bin("api"))
        .member(pkg("worker").bin("worker"))
        .current("worker")
        .build();
    assert_eq!(plan_of(&workspace).selected, ["worker"]);
    let all = planned(&workspace, |s| s.selection.workspace = true).unwrap();
    assert_eq!(all.selected, ["api", "worker"]);
}

#[test]
fn package_bin_and_exclude_select_as_cargo_does() {
    let workspace = services();
    let selected = |set: &dyn Fn(&mut Settings)| planned(&workspace, set).unwrap().selected;
    assert_eq!(
        selected(&|s| s.selection.packages = vec!["api".into()]),
        ["admin", "api"]
    );
    // `--bin` alone looks through every member.
    assert_eq!(
        selected(&|s| s.selection.bins = vec!["worker".into()]),
        ["worker"]
    );
    assert_eq!(
        selected(&|s| {
            s.selection.workspace = true;
            s.selection.exclude = vec!["api".into()];
        }),
        ["worker"]
    );
}

#[test]
fn an_unknown_package_is_refused_with_the_closest_name() {
    let error = planned(&services(), |s| {
        s.selection.packages = vec!["wroker".into()]
    })
    .unwrap_err();
    assert!(
        matches!(&error, PlanError::UnknownPackage { name, suggestion: Some(s), .. }
            if name == "wroker" && s == "worker"),
        "{error:?}"
    );
    // `--exclude` names are checked too.
    let error = planned(&services(), |s| {
        s.selection.workspace = true;
        s.selection.exclude = vec!["nope".into()];
    })
    .unwrap_err();
    assert!(
        matches!(&error, PlanError::UnknownPackage { name, .. } if name == "nope"),
        "{error:?}"
    );
}

#[test]
fn a_binary_of_another_package_is_refused_saying_where_it_is() {
    let error = planned(&services(), |s| {
        s.selection.packages = vec!["api".into()];
        s.selection.bins = vec!["worker".into()];
    })
    .unwrap_err();
    match error {
        PlanError::UnknownBinary {
            name,
            scope,
            available,
            ..
        } => {
            assert_eq!(name, "worker");
            assert!(
                scope.contains("it is in `worker`: add `-p worker`"),
                "{scope}"
            );
            assert_eq!(available, ["admin", "api"]);
        }
        other => panic!("{other:?}"),
    }
    let error = planned(&services(), |s| s.selection.bins = vec!["amdin".into()]).unwrap_err();
    assert!(
        matches!(&error, PlanError::UnknownBinary { suggestion: Some(s), scope, .. }
            if s == "admin" && scope == "the selected packages"),
        "{error:?}"
    );
}

#[test]
fn a_binary_whose_required_features_are_off_is_skipped_with_how_to_enable_them() {
    let plan = plan_of(&gated(&[("extra", &[])]));
    assert_eq!(images(&plan), ["open"]);
    let skipped = &plan.skipped[0];
    assert_eq!(
        (skipped.package.as_str(), skipped.binary.as_str()),
        ("tools", "gated")
    );
    assert_eq!(
        skipped.reason,
        "requires feature `extra`; enable it with `features = [\"extra\"]` in `[package.metadata.dockerize.bin.gated]` or `--features tools/extra`"
    );
}

#[test]
fn required_features_are_met_by_flags_defaults_and_tables() {
    let by_flag = planned(&gated(&[("extra", &[])]), |s| {
        s.features.features = vec!["tools/extra".into()];
    })
    .unwrap();
    assert_eq!(images(&by_flag), ["gated", "open"]);
    // Enabled by `default`, through another feature.
    let by_default = plan_of(&gated(&[
        ("default", &["more"]),
        ("more", &["extra"]),
        ("extra", &[]),
    ]));
    assert_eq!(images(&by_default), ["gated", "open"]);
    // ... unless `--no-default-features`.
    let without = planned(
        &gated(&[("default", &["more"]), ("more", &["extra"]), ("extra", &[])]),
        |s| s.features.no_default_features = true,
    )
    .unwrap();
    assert_eq!(images(&without), ["open"]);
    let all = planned(&gated(&[("extra", &[])]), |s| {
        s.features.all_features = true
    })
    .unwrap();
    assert_eq!(images(&all), ["gated", "open"]);
    let by_table = ws()
        .member(
            pkg("tools")
                .bin("open")
                .bin_requiring("gated", &["extra"])
                .feature("extra", &[])
                .config(json!({ "bin": { "gated": { "features": ["extra"] } } })),
        )
        .build();
    assert_eq!(images(&plan_of(&by_table)), ["gated", "open"]);
}

#[test]
fn naming_a_binary_the_dockerfile_leaves_out_says_why() {
    let error = planned(&gated(&[("extra", &[])]), |s| {
        s.selection.bins = vec!["gated".into()]
    })
    .unwrap_err();
    assert!(
        matches!(&error, PlanError::NotInDockerfile { binary, reason }
            if binary == "gated" && reason.starts_with("requires feature `extra`")),
        "{error:?}"
    );
}

#[test]
fn an_unknown_feature_is_refused() {
    let error = planned(&gated(&[("extra", &[])]), |s| {
        s.features.features = vec!["extr".into()];
    })
    .unwrap_err();
    assert_eq!(
        error,
        PlanError::UnknownFeature {
            feature: "extr".into()
        }
    );
}

#[test]
fn skip_leaves_a_binary_out_and_says_which_table() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .bin("admin")
                .config(json!({ "bin": { "admin": { "skip": true } } })),
        )
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(images(&plan), ["api"]);
    assert_eq!(
        plan.skipped[0].reason,
        "`skip = true` in `[package.metadata.dockerize.bin.admin]` in `crates/api/Cargo.toml`"
    );
}

#[test]
fn xtask_is_a_development_tool_unless_a_table_says_skip_false() {
    let workspace = |config| {
        ws().member(pkg("api").bin("api"))
            .member(pkg("xtask").bin("xtask").config(config))
            .build()
    };
    let plan = plan_of(&workspace(serde_json::Value::Null));
    assert_eq!(images(&plan), ["api"]);
    assert!(plan.skipped[0]
        .reason
        .contains("the cargo-xtask convention"));
    let kept = plan_of(&workspace(json!({ "skip": false })));
    assert_eq!(images(&kept), ["api", "xtask"]);
    // Only the convention's names: a `tools` package is imaged.
    assert!(development_tool(&pkg("xtask-lint").build()).is_some());
    assert!(development_tool(&pkg("tools").build()).is_none());
}

#[test]
fn an_unknown_profile_is_refused_naming_the_binary_and_the_table() {
    let workspace = ws()
        .member(pkg("api").bin("api").config(json!({ "profile": "fast" })))
        .build();
    let error = planned(&workspace, |_| {}).unwrap_err();
    match error {
        PlanError::UnknownProfile {
            binary,
            profile,
            origin,
            available,
        } => {
            assert_eq!((binary.as_str(), profile.as_str()), ("api", "fast"));
            assert!(origin.contains("crates/api/Cargo.toml"), "{origin}");
            assert_eq!(available, ["bench", "dev", "release", "test"]);
        }
        other => panic!("{other:?}"),
    }
    let defined = ws()
        .member(pkg("api").bin("api").config(json!({ "profile": "fast" })))
        .profile("fast", Default::default())
        .build();
    assert!(planned(&defined, |_| {}).is_ok());
}

#[test]
fn a_workspace_without_binaries_or_with_every_binary_skipped_is_refused() {
    let none = ws().member(pkg("common")).build();
    assert!(matches!(
        planned(&none, |_| {}),
        Err(PlanError::NoBinaries { .. })
    ));
    let error = planned(&gated(&[("extra", &[])]), |s| {
        s.selection.packages = vec!["tools".into()];
        s.selection.bins = vec!["open".into()];
    });
    assert!(error.is_ok(), "{error:?}");
    let only_gated = ws()
        .member(
            pkg("tools")
                .bin_requiring("gated", &["extra"])
                .feature("extra", &[]),
        )
        .build();
    let error = planned(&only_gated, |_| {}).unwrap_err();
    assert!(
        matches!(&error, PlanError::NothingSelected { why } if why.starts_with("`gated` is skipped: requires feature")),
        "{error:?}"
    );
}

#[test]
fn user_features_are_qualified_by_the_packages_that_have_them() {
    let api = pkg("api").bin("api").feature("tls", &[]).build();
    let worker = pkg("worker").bin("worker").feature("tls", &[]).build();
    let settings = Settings {
        features: crate::config::Features {
            features: vec!["tls".into(), "serde/derive".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let qualified = qualify_user_features(&[&api, &worker], &settings).unwrap();
    assert_eq!(qualified, ["api/tls", "serde/derive", "worker/tls"]);
}
