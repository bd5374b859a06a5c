use super::*;
use serde_json::json;

/// The origin the configuration tests report against.
pub fn origin() -> TableOrigin {
    TableOrigin {
        manifest: "crates/api/Cargo.toml".into(),
        table: "[package.metadata.dockerize]".into(),
    }
}

#[test]
fn unknown_keys_name_the_table_and_suggest() {
    let err = parse(
        &json!({"runtme": "scratch"}),
        &origin(),
        TableLevel::Package,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown key `runtme` in `[package.metadata.dockerize]` in `crates/api/Cargo.toml` (did you mean `runtime`?)"
    );
    let err = parse(
        &json!({"bin": {"api": {"exposee": [1]}}}),
        &origin(),
        TableLevel::Package,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`[package.metadata.dockerize.bin.api]`"),
        "{err}"
    );
    assert!(err.to_string().contains("`expose`"), "{err}");
}

#[test]
fn wrong_types_name_the_key_and_the_expected_type() {
    let err = parse(&json!({"expose": "8080"}), &origin(), TableLevel::Package).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("invalid value for `expose`"), "{text}");
    assert!(text.contains("expected a sequence"), "{text}");
    let err = parse(&json!({"libc": "glibc"}), &origin(), TableLevel::Package).unwrap_err();
    assert!(err.to_string().contains("`libc`"), "{err}");
}

#[test]
fn values_a_dockerfile_cannot_hold_are_refused() {
    for (value, key) in [
        (json!({"user": ""}), "user"),
        (json!({"workdir": "relative"}), "workdir"),
        (json!({"entrypoint": []}), "entrypoint"),
        (json!({"env": {"A B": "x"}}), "env"),
        (json!({"labels": {"a b": "x"}}), "labels"),
        (
            json!({"build-packages": ["curl; rm -rf /"]}),
            "build-packages",
        ),
        (json!({"bin": {"x": {"user": " "}}}), "user"),
    ] {
        let err = parse(&value, &origin(), TableLevel::Package).unwrap_err();
        assert!(
            matches!(&err, ConfigError::InvalidValue { key: k, .. } if k == key),
            "{value}: {err}"
        );
    }
    let ok = json!({"user": "1000:1000", "workdir": "/srv", "env": {"RUST_LOG": "info"},
        "labels": {"org.opencontainers.image.vendor": "Acme"}, "build-packages": ["libssl-dev", "g++"]});
    parse(&ok, &origin(), TableLevel::Package).unwrap();
}

#[test]
fn rust_version_is_a_release_of_the_workspace_table() {
    let workspace = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = parse(
        &json!({"rust-version": "1.95"}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap();
    assert_eq!(table.rust_version.as_deref(), Some("1.95"));
    for bad in ["1", "nightly", "1.95.x", "1.95.0.1"] {
        let err = parse(
            &json!({ "rust-version": bad }),
            &workspace,
            TableLevel::Workspace,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("is not a Rust release"),
            "{bad}: {err}"
        );
    }
    for (value, table) in [
        (
            json!({"rust-version": "1.95"}),
            "[package.metadata.dockerize]",
        ),
        (
            json!({"bin": {"api": {"rust-version": "1.95"}}}),
            "[package.metadata.dockerize.bin.api]",
        ),
    ] {
        let err = parse(&value, &origin(), TableLevel::Package).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(table) && text.contains("workspace"), "{text}");
    }
}

#[test]
fn build_env_is_the_workspace_tables_and_names_variables() {
    let workspace = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = parse(
        &json!({"build-env": {"SQLX_OFFLINE": "true"}}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap();
    assert_eq!(
        table.build_env,
        Some(BTreeMap::from([(
            "SQLX_OFFLINE".to_string(),
            "true".to_string()
        )]))
    );
    let err = parse(
        &json!({"build-env": {"1BAD": "x"}}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value for `build-env` in `[workspace.metadata.dockerize]` in `Cargo.toml`: `1BAD` is not a variable name (`A-Za-z_` then `A-Za-z0-9_.-`)"
    );
    let err = parse(
        &json!({"build-env": {"A": 1}}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap_err();
    assert!(err.to_string().contains("`build-env.A`"), "{err}");
    for (value, table) in [
        (
            json!({"build-env": {"A": "1"}}),
            "`[package.metadata.dockerize]` in `crates/api/Cargo.toml`",
        ),
        (
            json!({"bin": {"api": {"build-env": {"A": "1"}}}}),
            "`[package.metadata.dockerize.bin.api]` in `crates/api/Cargo.toml`",
        ),
    ] {
        let text = parse(&value, &origin(), TableLevel::Package)
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            format!("invalid value for `build-env` in {table}: every package shares the builder, so its environment is the workspace's: set it in `[workspace.metadata.dockerize]` of the root `Cargo.toml`")
        );
    }
    let err = parse(&json!({"build-evn": {}}), &workspace, TableLevel::Workspace).unwrap_err();
    assert!(
        err.to_string().contains("did you mean `build-env`"),
        "{err}"
    );
}

#[test]
fn dockerfile_and_registry_are_checked_keys_of_the_workspace_table() {
    let workspace = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let ok = json!({"dockerfile": "docker/Dockerfile.dockerize", "registry": "ghcr.io/acme"});
    parse(&ok, &workspace, TableLevel::Workspace).unwrap();
    for (value, key, why) in [
        (
            json!({"dockerfile": "/srv/Dockerfile"}),
            "dockerfile",
            "not absolute",
        ),
        (
            json!({"dockerfile": "../Dockerfile"}),
            "dockerfile",
            "leaves the workspace",
        ),
        (json!({"registry": "ghcr.io/Acme"}), "registry", "lowercase"),
        (
            json!({"registry": "ghcr.io/acme:1"}),
            "registry",
            "registry prefix",
        ),
    ] {
        let err = parse(&value, &workspace, TableLevel::Workspace).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, ConfigError::InvalidValue { key: k, .. } if k == key)
                && text.contains(why),
            "{value}: {text}"
        );
    }
    for value in [
        json!({"dockerfile": "D"}),
        json!({"bin": {"api": {"registry": "x.io"}}}),
    ] {
        let err = parse(&value, &origin(), TableLevel::Package).unwrap_err();
        assert!(err.to_string().contains("is the workspace's"), "{err}");
    }
}

#[test]
fn bin_tables_only_at_package_level() {
    let err = parse(&json!({"bin": {}}), &origin(), TableLevel::Workspace).unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "bin"));
}

#[test]
fn the_keys_are_the_tables_own() {
    let keys = keys();
    for key in [
        "auditable",
        "bin",
        "build-env",
        "platforms",
        "runtime-packages",
        "rust-version",
        "static",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert!(!keys.contains(&"typed"), "a skipped field is no key");
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted: {keys:?}");
    assert_eq!(keys.len(), 28);
}

#[test]
fn build_secrets_are_the_workspace_tables_and_secret_looking_build_env_is_refused() {
    let workspace = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = parse(
        &json!({"build-secrets": ["DATABASE_URL", {"name": "API", "file": "/run/api"}]}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap();
    let names: Vec<&str> = table
        .typed
        .build_secrets
        .iter()
        .flatten()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["API", "DATABASE_URL"]);
    let err = parse(
        &json!({"build-env": {"NPM_TOKEN": "abc"}}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("invalid value for `build-env`"), "{text}");
    assert!(text.contains("`NPM_TOKEN` looks like a secret"), "{text}");
    assert!(text.contains("build-secrets = [\"NPM_TOKEN\"]"), "{text}");
    let package = TableOrigin {
        manifest: "api/Cargo.toml".into(),
        table: "[package.metadata.dockerize]".into(),
    };
    let err = parse(
        &json!({"build-secrets": ["A"]}),
        &package,
        TableLevel::Package,
    )
    .unwrap_err();
    assert!(err.to_string().contains("`build-secrets`"), "{err}");
}

#[test]
fn auditable_is_a_bool_of_the_workspace_table() {
    let workspace = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = parse(
        &json!({"auditable": false}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap();
    assert_eq!(table.auditable, Some(false));
    let err = parse(
        &json!({"auditable": "no"}),
        &workspace,
        TableLevel::Workspace,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, .. } if key == "auditable"),
        "{err}"
    );
    let err = parse(&json!({"auditable": false}), &origin(), TableLevel::Package).unwrap_err();
    assert!(
        err.to_string()
            .contains("every package shares the builder, which embeds the crate lists"),
        "{err}"
    );
}
