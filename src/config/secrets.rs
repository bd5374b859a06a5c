//! `build-secrets`: the secrets the builder's cook and final compile read, each from an environment variable or a
//! file of the machine that builds; and the refusal of a `build-env` key that looks like a secret, since
//! `build-env` becomes `ENV` in the builder stage, visible in `docker history` and pushed with any cache image.
//! Pure: values are read by `build`, never here.

use serde::Deserialize;

use crate::model::{BuildSecret, SecretFrom};
use crate::value::{check_line, shown};

/// One entry of `build-secrets` as written: a name (read from the variable of that name), or a table naming the
/// variable or the file it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretEntry {
    Name(String),
    Table {
        name: String,
        env: Option<String>,
        file: Option<String>,
    },
}

/// The table form, whose unknown keys are refused by name: a misspelt `fil = "..."` must not silently read the
/// secret from the variable instead.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretTable {
    name: String,
    env: Option<String>,
    file: Option<String>,
}

/// Hand-written rather than `untagged`, whose only error is "did not match any variant".
impl<'de> Deserialize<'de> for SecretEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SecretEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a variable's name, or a table `{ name = \"...\", env = \"...\" }` or `{ name = \"...\", file = \"...\" }`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SecretEntry, E> {
                Ok(SecretEntry::Name(text.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SecretEntry, A::Error> {
                let SecretTable { name, env, file } =
                    SecretTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(SecretEntry::Table { name, env, file })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Whether a variable's name says it holds a secret: `*_TOKEN`, `*PASSWORD*`, `*_SECRET`, `*_KEY`, in any case.
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["_TOKEN", "_SECRET", "_KEY"]
        .iter()
        .any(|end| name.ends_with(end))
        || name.contains("PASSWORD")
        || ["TOKEN", "SECRET"].contains(&name.as_str())
}

/// A name a POSIX shell can export: `A-Za-z_` then `A-Za-z0-9_`.
fn shell_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `build-secrets` checked: names a shell can export, each once, none also in `build-env`, each from one place.
pub fn check(
    entries: &[SecretEntry],
    build_env: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Vec<BuildSecret>, String> {
    let mut secrets: Vec<BuildSecret> = Vec::new();
    for entry in entries {
        let secret = match entry {
            SecretEntry::Name(name) => BuildSecret {
                name: name.clone(),
                from: SecretFrom::Env(name.clone()),
            },
            SecretEntry::Table { name, env, file } => {
                let from = match (env, file) {
                    (Some(_), Some(_)) => {
                        return Err(format!("`{name}` names both `env` and `file`: keep one"))
                    }
                    (Some(var), None) => SecretFrom::Env(var.clone()),
                    (None, Some(file)) if file.trim().is_empty() => {
                        return Err(format!("`{name}` has an empty `file`"))
                    }
                    (None, Some(file)) => {
                        check_line(file).map_err(|why| format!("`{name}`'s `file` {why}"))?;
                        SecretFrom::File(file.clone())
                    }
                    (None, None) => SecretFrom::Env(name.clone()),
                };
                BuildSecret {
                    name: name.clone(),
                    from,
                }
            }
        };
        if !shell_name(&secret.name) {
            return Err(format!(
                "`{}` is not a variable name the build steps can export (`A-Za-z_` then `A-Za-z0-9_`)",
                secret.name
            ));
        }
        if let SecretFrom::Env(var) = &secret.from {
            if var.is_empty() || var.contains('=') || check_line(var).is_err() {
                return Err(format!(
                    "`{}` is not an environment variable's name",
                    shown(var)
                ));
            }
        }
        if secrets.iter().any(|s| s.name == secret.name) {
            return Err(format!("`{}` is named twice", secret.name));
        }
        if build_env.is_some_and(|env| env.contains_key(&secret.name)) {
            return Err(format!(
                "`{}` is also in `build-env`: a secret's value must not be written into the image, keep it in `build-secrets` only",
                secret.name
            ));
        }
        secrets.push(secret);
    }
    secrets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(secrets)
}

/// The first `build-env` key that looks like a secret, with what to do instead.
pub fn secret_in_build_env(
    build_env: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let key = build_env.keys().find(|k| looks_secret(k))?;
    Some(format!(
        "`{key}` looks like a secret, and `build-env` writes its value into the builder image (`ENV`, shown by \
         `docker history`, pushed with a cache image): move it to `build-secrets = [\"{key}\"]`, which mounts it \
         in the compile steps only"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names() {
        for name in [
            "NPM_TOKEN",
            "db_password",
            "PASSWORD",
            "AWS_SECRET",
            "SIGNING_KEY",
            "token",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "SQLX_OFFLINE",
            "KEYRING_BACKEND",
            "TOKENIZER_PATH",
            "RUST_LOG",
            "CARGO_KEYS",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn entries_become_sorted_secrets_from_env_or_file() {
        let entries = vec![
            SecretEntry::Name("DATABASE_URL".into()),
            SecretEntry::Table {
                name: "API_KEY".into(),
                env: None,
                file: Some("secrets/api.txt".into()),
            },
            SecretEntry::Table {
                name: "NPM".into(),
                env: Some("CI_NPM_TOKEN".into()),
                file: None,
            },
        ];
        let secrets = check(&entries, None).unwrap();
        let names: Vec<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["API_KEY", "DATABASE_URL", "NPM"]);
        assert_eq!(secrets[0].from, SecretFrom::File("secrets/api.txt".into()));
        assert_eq!(secrets[1].from, SecretFrom::Env("DATABASE_URL".into()));
        assert_eq!(secrets[2].from, SecretFrom::Env("CI_NPM_TOKEN".into()));
    }

    #[test]
    fn bad_entries_are_refused_with_the_name() {
        let named = |n: &str| vec![SecretEntry::Name(n.into())];
        assert!(check(&named("A-B"), None).unwrap_err().contains("`A-B`"));
        assert!(check(&named("1A"), None).unwrap_err().contains("`1A`"));
        let twice = vec![SecretEntry::Name("A".into()), SecretEntry::Name("A".into())];
        assert!(check(&twice, None).unwrap_err().contains("twice"));
        let env = std::collections::BTreeMap::from([("A".to_string(), "1".to_string())]);
        assert!(check(&named("A"), Some(&env))
            .unwrap_err()
            .contains("build-env"));
        let both = vec![SecretEntry::Table {
            name: "A".into(),
            env: Some("B".into()),
            file: Some("f".into()),
        }];
        assert!(check(&both, None).unwrap_err().contains("both"));
        let from = |env: Option<&str>, file: Option<&str>| {
            vec![SecretEntry::Table {
                name: "A".into(),
                env: env.map(Into::into),
                file: file.map(Into::into),
            }]
        };
        let why = check(&from(None, Some("/run/a\nRUN id")), None).unwrap_err();
        assert!(why.contains("line break") && !why.contains('\n'), "{why}");
        let why = check(&from(Some("B\u{1b}[2J"), None), None).unwrap_err();
        assert!(why.contains("\\u{1b}") && !why.contains('\u{1b}'), "{why}");
    }

    #[test]
    fn a_misspelt_key_in_an_entry_is_refused_by_name() {
        let parse = |json: serde_json::Value| serde_json::from_value::<Vec<SecretEntry>>(json);
        let entries = parse(serde_json::json!(["A", {"name": "B", "file": "/run/b"}])).unwrap();
        assert_eq!(entries[0], SecretEntry::Name("A".into()));
        let why = parse(serde_json::json!([{"name": "B", "fil": "/run/b"}]))
            .unwrap_err()
            .to_string();
        assert!(why.contains("unknown field `fil`"), "{why}");
        let why = parse(serde_json::json!([3])).unwrap_err().to_string();
        assert!(why.contains("a variable's name, or a table"), "{why}");
    }
}
