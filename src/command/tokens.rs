//! The tokens of the private Cargo registries the plan names ([`crate::plan::PrivateRegistry`]), read on this
//! machine where Cargo reads them: the variable `CARGO_REGISTRIES_<NAME>_TOKEN`, else `[registries.<name>] token`
//! of Cargo's credentials file (`$CARGO_HOME/credentials.toml`, `~/.cargo` without `CARGO_HOME`; the older name
//! `credentials` first, as Cargo prefers it). Read before anything is written or sent; a value goes to the build's
//! session only, never to a message: a token that cannot be found is an error naming the registry and the
//! variable.

use camino::Utf8PathBuf;

use crate::error::Error;
use crate::plan::PrivateRegistry;

/// Cargo's home: `CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<Utf8PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))?;
    Utf8PathBuf::from_path_buf(home).ok()
}

/// The token of `registry` in a credentials file's text; `Err` when the file is not TOML (said without its text,
/// which holds tokens).
fn token_in(text: &str, registry: &str) -> Result<Option<String>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|_| "it is not valid TOML".to_string())?;
    Ok(table
        .get("registries")
        .and_then(|r| r.get(registry))
        .and_then(|r| r.get("token"))
        .and_then(toml::Value::as_str)
        .map(str::to_string))
}

/// The token of `registry`: its variable, else the credentials file.
pub(super) fn read(registry: &PrivateRegistry) -> Result<Vec<u8>, Error> {
    if let Some(value) = std::env::var_os(&registry.secret).filter(|v| !v.is_empty()) {
        return Ok(value.into_encoded_bytes());
    }
    let missing = |why: String| Error::RegistryToken {
        registry: registry.name.clone(),
        variable: registry.secret.clone(),
        why,
    };
    let Some(home) = cargo_home() else {
        return Err(missing(format!(
            "`{}` is not set, and neither `CARGO_HOME` nor `HOME` says where Cargo's credentials are",
            registry.secret
        )));
    };
    for name in ["credentials", "credentials.toml"] {
        let path = home.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let found = token_in(&text, &registry.name)
            .map_err(|why| missing(format!("`{path}` cannot be read: {why}")))?;
        if let Some(token) = found.filter(|t| !t.is_empty()) {
            return Ok(token.into_bytes());
        }
    }
    Err(missing(format!(
        "`{}` is not set and `{}` holds no `[registries.{}] token`",
        registry.secret,
        home.join("credentials.toml"),
        registry.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_of_the_named_registry_only() {
        let text = "[registry]\ntoken = \"crates-io-token\"\n\
                    [registries.corp]\ntoken = \"corp-token\"\n[registries.other]\ntoken = \"x\"\n";
        assert_eq!(
            token_in(text, "corp").unwrap().as_deref(),
            Some("corp-token")
        );
        assert_eq!(token_in(text, "absent").unwrap(), None);
        let why = token_in("token = [\"secret-value", "corp").unwrap_err();
        assert!(!why.contains("secret-value"), "{why}");
    }
}
