//! Cargo's configuration files as the builder's Cargo reads them, with the keys that decide how a binary is
//! compiled and linked: `build.rustflags`, `build.target`, and `rustflags` and `linker` of every
//! `[target.<triple>]` and `[target.'cfg(...)']` table; and the registries (`[registries.<name>] index`) and source
//! replacements (`[source.<name>] replace-with`) that decide where the builder's Cargo fetches crates from.
//!
//! In the builder, Cargo runs in the workspace root and reads `.cargo/config.toml` (or `.cargo/config`, which wins
//! when both exist) there and in every directory above it: inside the image that is the build context up to its
//! root, then `/.cargo` and `$CARGO_HOME`, which hold none. So these are the files read here, and never one of the
//! host's (its home, the directories above the context), which the image does not see. A member directory's
//! `.cargo/config.toml` is not read either: Cargo reads configuration from where it runs, not from each package.
//!
//! [`read`] is the file edge; [`CargoConfig::from_files`] parses text, so tests build one in-process. A file that
//! cannot be read or parsed, or a key of the wrong type, is left to Cargo, which reports it in the build with its
//! own words. [`super::rustflags`] resolves the flags of one target from these files.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

/// Cargo's configuration in the build context: its files in the order Cargo merges them, the outermost first,
/// since a list of a deeper file (nearer the workspace) is placed after those of the files above it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CargoConfig {
    pub files: Vec<ConfigFile>,
}

/// One configuration file and the keys read from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    /// Its path relative to the workspace root (`.cargo/config.toml`, `../.cargo/config`), as messages name it.
    pub path: Utf8PathBuf,
    /// `build.rustflags` (a string is split at whitespace, as Cargo splits it).
    pub build_rustflags: Option<Vec<String>>,
    /// `build.target`: one triple, or several.
    pub build_target: Option<Vec<String>>,
    /// The `[target.<triple>]` and `[target.'cfg(...)']` tables, by key.
    pub targets: BTreeMap<String, TargetKeys>,
    /// `[registries.<name>] index`, by name (a table without `index` is left out: Cargo reports it).
    pub registries: BTreeMap<String, String>,
    /// `[source.<name>] replace-with`, by the replaced source's name.
    pub replace_with: BTreeMap<String, String>,
}

/// What one `[target.<key>]` table sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetKeys {
    pub rustflags: Option<Vec<String>>,
    pub linker: Option<String>,
}

impl CargoConfig {
    /// The configuration of files given as (path relative to the workspace root, text), outermost first. A file
    /// that is not TOML is left out.
    pub fn from_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            files: files
                .into_iter()
                .filter_map(|(path, text)| parse(path.into(), text))
                .collect(),
        }
    }
}

/// The directories whose `.cargo` Cargo reads in the builder: `root` (the workspace root) and each directory
/// above it up to `context_root`, outermost first.
fn config_dirs(root: &Utf8Path, context_root: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut dirs: Vec<Utf8PathBuf> = Vec::new();
    for dir in root.ancestors() {
        dirs.push(dir.to_owned());
        if dir == context_root || !dir.starts_with(context_root) {
            break;
        }
    }
    dirs.reverse();
    dirs
}

impl CargoConfig {
    /// `[registries.<name>] index` as Cargo merges the files (the deepest file wins), with the file that says it.
    pub fn registry_index(&self, name: &str) -> Option<(&str, &Utf8Path)> {
        self.files
            .iter()
            .rev()
            .find_map(|f| Some((f.registries.get(name)?.as_str(), f.path.as_path())))
    }

    /// Every registry the files name, by name (the deepest file's index wins), each with the file that says it.
    pub fn registries(&self) -> BTreeMap<&str, (&str, &Utf8Path)> {
        let mut all = BTreeMap::new();
        for file in &self.files {
            for (name, index) in &file.registries {
                all.insert(name.as_str(), (index.as_str(), file.path.as_path()));
            }
        }
        all
    }

    /// `[source.<name>] replace-with` as Cargo merges the files.
    pub fn replacement(&self, source: &str) -> Option<&str> {
        self.files
            .iter()
            .rev()
            .find_map(|f| f.replace_with.get(source).map(String::as_str))
    }
}

/// Reads the configuration files Cargo finds in the builder (see the module's documentation).
pub(super) fn read(root: &Utf8Path, context_root: &Utf8Path) -> CargoConfig {
    let mut files = Vec::new();
    for dir in config_dirs(root, context_root) {
        // Cargo's own preference: `config` when both exist.
        let found = ["config", "config.toml"]
            .iter()
            .map(|name| dir.join(".cargo").join(name))
            .find(|path| path.is_file());
        let Some(path) = found else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // `../../.cargo/config.toml`: one `..` per directory between the workspace root and this one.
        let up = root
            .strip_prefix(&dir)
            .map_or(0, |r| r.components().count());
        let mut relative: Utf8PathBuf = std::iter::repeat_n("..", up).collect();
        relative.push(".cargo");
        relative.push(path.file_name().unwrap_or_default());
        files.extend(parse(relative, &text));
    }
    CargoConfig { files }
}

/// The keys of one file; `None` when it is not TOML.
fn parse(path: Utf8PathBuf, text: &str) -> Option<ConfigFile> {
    let table: toml::Table = text.parse().ok()?;
    let build = table.get("build").and_then(toml::Value::as_table);
    let targets = table
        .get("target")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let value = value.as_table()?;
            let keys = TargetKeys {
                rustflags: value.get("rustflags").and_then(string_list),
                linker: value
                    .get("linker")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string),
            };
            Some((key.clone(), keys))
        })
        .collect();
    let tables = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
    };
    let registries = tables("registries")
        .filter_map(|(name, value)| {
            let index = value.as_table()?.get("index")?.as_str()?;
            Some((name.clone(), index.to_string()))
        })
        .collect();
    let replace_with = tables("source")
        .filter_map(|(name, value)| {
            let with = value.as_table()?.get("replace-with")?.as_str()?;
            Some((name.clone(), with.to_string()))
        })
        .collect();
    Some(ConfigFile {
        path,
        registries,
        replace_with,
        build_rustflags: build.and_then(|b| b.get("rustflags")).and_then(string_list),
        build_target: build.and_then(|b| b.get("target")).and_then(|t| match t {
            toml::Value::String(one) => Some(vec![one.clone()]),
            other => string_list(other),
        }),
        targets,
    })
}

/// A list of strings as Cargo reads one: an array of strings, or a string split at whitespace.
fn string_list(value: &toml::Value) -> Option<Vec<String>> {
    match value {
        toml::Value::String(text) => Some(text.split_whitespace().map(str::to_string).collect()),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_those_from_the_workspace_up_to_the_context_root() {
        let dirs = config_dirs("/src/outer/ws".into(), "/src/outer".into());
        assert_eq!(dirs, ["/src/outer", "/src/outer/ws"]);
        assert_eq!(config_dirs("/src/ws".into(), "/src/ws".into()), ["/src/ws"]);
    }

    #[test]
    fn keys_are_read_in_both_spellings_and_bad_ones_left_to_cargo() {
        let config = CargoConfig::from_files([
            (
                ".cargo/config.toml",
                "[build]\nrustflags = \"--cfg  a -C target-cpu=native\"\ntarget = \"x86_64-unknown-linux-gnu\"\n\
                 [target.'cfg(all())']\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\nlinker = \"clang\"\n\
                 [target.x86_64-unknown-linux-musl]\nrustflags = 7\n",
            ),
            ("../.cargo/config", "not = [toml"),
        ]);
        assert_eq!(config.files.len(), 1);
        let file = &config.files[0];
        assert_eq!(
            file.build_rustflags.as_deref(),
            Some(&["--cfg", "a", "-C", "target-cpu=native"].map(String::from)[..])
        );
        assert_eq!(
            file.build_target.as_deref(),
            Some(&["x86_64-unknown-linux-gnu".to_string()][..])
        );
        let all = &file.targets["cfg(all())"];
        assert_eq!(all.linker.as_deref(), Some("clang"));
        assert_eq!(all.rustflags.as_ref().map(Vec::len), Some(2));
        assert_eq!(file.targets["x86_64-unknown-linux-musl"].rustflags, None);
    }

    #[test]
    fn registries_and_replacements_deepest_file_first() {
        let config = CargoConfig::from_files([
            (
                "../.cargo/config.toml",
                "[registries.corp]\nindex = \"sparse+https://outer.example/\"\n\
                 [registries.other]\nindex = \"https://git.example/index\"\n\
                 [source.crates-io]\nreplace-with = \"other\"\n",
            ),
            (
                ".cargo/config.toml",
                "[registries.corp]\nindex = \"sparse+https://inner.example/\"\n[registries.noindex]\n\
                 [source.crates-io]\nreplace-with = \"corp\"\n",
            ),
        ]);
        let (index, file) = config.registry_index("corp").unwrap();
        assert_eq!(
            (index, file.as_str()),
            ("sparse+https://inner.example/", ".cargo/config.toml")
        );
        assert_eq!(config.registry_index("noindex"), None);
        assert_eq!(config.registries().len(), 2);
        assert_eq!(config.replacement("crates-io"), Some("corp"));
        assert_eq!(config.replacement("other"), None);
    }
}
