//! Where the workspace's dependencies come from beyond crates.io, as the builder must fetch them: the registries of
//! the workspace's `.cargo/config.toml` (`[registries]`) that the resolve reads, the sources it replaces
//! (`[source]`: a mirror in place of crates.io, a vendored directory in place of anything), and the git
//! repositories of the resolve, with the host each is fetched from.
//!
//! What the builder then needs (a registry's token, an ssh agent and the host keys, a git credential, a bind of
//! the vendored directory) is the plan's to decide; here only what the files and the resolve say. Only the
//! workspace's own Cargo configuration counts: it is what the planner copies into the image, so a registry named
//! only in `~/.cargo/config.toml` is one the builder cannot find, which [`DependencySources::unnamed`] says.
//! Pure: the caller reads the files.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

/// crates.io as `cargo metadata` names it, whatever protocol reaches it.
pub const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";
/// The name Cargo's `[source]` table gives crates.io.
const CRATES_IO_NAME: &str = "crates-io";

/// Where the dependencies come from, for the builder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DependencySources {
    /// Registries of `[registries]` the resolve reads from (directly, or as what replaces another source): each
    /// may need a token. Sorted.
    pub registries: Vec<String>,
    /// Registry URLs the resolve reads that the workspace's Cargo configuration does not name. Sorted.
    pub unnamed: Vec<String>,
    /// The git repositories the builder fetches (those no vendored directory replaces), sorted, each once.
    pub git: Vec<GitRepository>,
    /// Directory and local-registry sources that replace a source of the resolve, relative to the workspace
    /// root, sorted: the cook reads them from the build context.
    pub vendored: Vec<Utf8PathBuf>,
    /// Vendored directories outside the workspace, which the build context does not hold.
    pub vendored_outside: Vec<Utf8PathBuf>,
    /// `net.git-fetch-with-cli = true` in the workspace's configuration.
    pub git_fetch_with_cli: bool,
}

/// A git repository of the resolve.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GitRepository {
    /// As Cargo fetches it: `ssh://git@git.example.com/platform/auth.git`.
    pub url: String,
    pub transport: GitTransport,
    /// The server's host name or address.
    pub host: String,
    /// The port, when the URL names one.
    pub port: Option<u16>,
}

/// How a git repository is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GitTransport {
    Ssh,
    Https,
    /// `http://`, `git://`, `file://`: fetched as they are, with nothing to give.
    Other,
}

impl GitRepository {
    /// The host as `known_hosts` writes it: `host`, or `[host]:port` for another port than 22.
    pub fn known_hosts_name(&self) -> String {
        match self.port {
            Some(port) if port != 22 => format!("[{}]:{port}", self.host),
            _ => self.host.clone(),
        }
    }

    /// Reads a `git+<url>[?query][#commit]` source of `cargo metadata` or `Cargo.lock`.
    pub fn from_source(source: &str) -> Option<Self> {
        let url = source.strip_prefix("git+")?;
        let url = url.split(['#', '?']).next().unwrap_or_default();
        let (scheme, rest) = url.split_once("://")?;
        let transport = match scheme {
            "ssh" => GitTransport::Ssh,
            "https" => GitTransport::Https,
            _ => GitTransport::Other,
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()),
            _ => (host_port, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        Some(Self {
            url: url.to_string(),
            transport,
            host: host.to_string(),
            port,
        })
    }
}

/// Cargo's configuration as far as sources go: `[registries]`, `[source]` and `net.git-fetch-with-cli`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CargoSourceConfig {
    /// Registry name → its index URL (`sparse+https://...` or a git index `https://...`).
    pub registries: BTreeMap<String, String>,
    /// `[source.<name>]` tables.
    pub sources: BTreeMap<String, SourceTable>,
    pub git_fetch_with_cli: bool,
}

/// One `[source.<name>]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceTable {
    pub replace_with: Option<String>,
    pub registry: Option<String>,
    pub git: Option<String>,
    /// `directory` or `local-registry`: a vendored source.
    pub directory: Option<String>,
}

impl CargoSourceConfig {
    /// Reads the tables of one configuration file's text; a file Cargo cannot parse is left to Cargo, which says
    /// so in the build in its own words.
    pub fn parse(text: &str) -> Self {
        let Ok(table) = text.parse::<toml::Table>() else {
            return Self::default();
        };
        let str_of =
            |t: &toml::Table, key: &str| t.get(key).and_then(|v| v.as_str()).map(String::from);
        let registries = sub_tables(&table, "registries")
            .filter_map(|(name, t)| Some((name.clone(), str_of(t, "index")?)))
            .collect();
        let sources = sub_tables(&table, "source")
            .map(|(name, t)| {
                let source = SourceTable {
                    replace_with: str_of(t, "replace-with"),
                    registry: str_of(t, "registry"),
                    git: str_of(t, "git"),
                    directory: str_of(t, "directory").or_else(|| str_of(t, "local-registry")),
                };
                (name.clone(), source)
            })
            .collect();
        let git_fetch_with_cli = table
            .get("net")
            .and_then(|n| n.get("git-fetch-with-cli"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        Self {
            registries,
            sources,
            git_fetch_with_cli,
        }
    }

    /// The first file's tables, with the second's where the first has none (`.cargo/config.toml` before
    /// `.cargo/config`, as Cargo prefers it).
    pub fn merged(mut self, other: Self) -> Self {
        for (name, index) in other.registries {
            self.registries.entry(name).or_insert(index);
        }
        for (name, table) in other.sources {
            self.sources.entry(name).or_insert(table);
        }
        self.git_fetch_with_cli |= other.git_fetch_with_cli;
        self
    }
}

fn sub_tables<'a>(
    table: &'a toml::Table,
    key: &str,
) -> impl Iterator<Item = (&'a String, &'a toml::Table)> {
    table
        .get(key)
        .and_then(|v| v.as_table())
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| Some((name, v.as_table()?)))
}

/// Where each source of the resolve (`cargo metadata`'s `source` strings, path packages left out) is fetched
/// from, under the workspace's configuration; `root` is the workspace root, which relative directories of the
/// configuration start from.
pub fn dependency_sources<'a>(
    used: impl IntoIterator<Item = &'a str>,
    config: &CargoSourceConfig,
    root: &Utf8Path,
) -> DependencySources {
    let mut registries = BTreeSet::new();
    let mut unnamed = BTreeSet::new();
    let mut git = BTreeSet::new();
    let mut vendored = BTreeSet::new();
    let mut outside = BTreeSet::new();
    let used: BTreeSet<&str> = used.into_iter().collect();
    for source in used {
        match fetched_from(source, config) {
            Fetch::Registry(name) => {
                registries.insert(name);
            }
            Fetch::Unnamed(url) => {
                unnamed.insert(url);
            }
            Fetch::Git(repository) => {
                git.insert(repository);
            }
            Fetch::Directory(dir) => match crate::paths::inside(&relative_to(&dir, root)) {
                Ok(inside) => {
                    vendored.insert(inside);
                }
                Err(_) => {
                    outside.insert(Utf8PathBuf::from(dir));
                }
            },
            Fetch::Public => {}
        }
    }
    DependencySources {
        registries: registries.into_iter().collect(),
        unnamed: unnamed.into_iter().collect(),
        git: git.into_iter().collect(),
        vendored: vendored.into_iter().collect(),
        vendored_outside: outside.into_iter().collect(),
        git_fetch_with_cli: config.git_fetch_with_cli,
    }
}

/// A configuration path as given, or relative to `root` when absolute under it.
fn relative_to(dir: &str, root: &Utf8Path) -> String {
    Utf8Path::new(dir)
        .strip_prefix(root)
        .map_or_else(|_| dir.to_string(), |p| p.to_string())
}

/// Where one source of the resolve is fetched from.
#[derive(Debug, PartialEq, Eq)]
enum Fetch {
    /// crates.io, a mirror without a name, or a git repository over a transport with nothing to give.
    Public,
    /// A registry of `[registries]`, by name.
    Registry(String),
    /// A registry URL the configuration does not name.
    Unnamed(String),
    Git(GitRepository),
    /// A vendored directory, as the configuration writes it.
    Directory(String),
}

fn fetched_from(source: &str, config: &CargoSourceConfig) -> Fetch {
    // A replaced source is fetched from its replacement, followed along `replace-with` (at most a few steps: a
    // loop is Cargo's error to report).
    let mut replacement = original_name(source, config).and_then(|name| replaced_by(name, config));
    for _ in 0..8 {
        let Some(name) = replacement else { break };
        if config.registries.contains_key(name) {
            return Fetch::Registry(name.to_string());
        }
        let Some(table) = config.sources.get(name) else {
            break;
        };
        if let Some(dir) = &table.directory {
            return Fetch::Directory(dir.clone());
        }
        if let Some(next) = &table.replace_with {
            replacement = Some(next);
            continue;
        }
        if let Some(index) = &table.registry {
            return named_registry(index, config).map_or(Fetch::Public, Fetch::Registry);
        }
        break;
    }
    if source == CRATES_IO {
        return Fetch::Public;
    }
    if let Some(repository) = GitRepository::from_source(source) {
        return match repository.transport {
            GitTransport::Other => Fetch::Public,
            _ => Fetch::Git(repository),
        };
    }
    let index = source.strip_prefix("registry+").unwrap_or(source);
    named_registry(index, config).map_or_else(|| Fetch::Unnamed(index.to_string()), Fetch::Registry)
}

/// The `[source.<name>]` that names `source` as an original: `crates-io`, or a table whose `registry` or `git` is
/// its URL.
fn original_name<'a>(source: &str, config: &'a CargoSourceConfig) -> Option<&'a str> {
    if source == CRATES_IO {
        return config
            .sources
            .get_key_value(CRATES_IO_NAME)
            .map(|(k, _)| k.as_str());
    }
    let url = source
        .strip_prefix("git+")
        .or_else(|| source.strip_prefix("registry+"))
        .unwrap_or(source);
    let url = url.split(['#', '?']).next().unwrap_or_default();
    config.sources.iter().find_map(|(name, table)| {
        let names = [&table.registry, &table.git]
            .into_iter()
            .flatten()
            .any(|u| same_url(u, url));
        names.then_some(name.as_str())
    })
}

fn replaced_by<'a>(name: &str, config: &'a CargoSourceConfig) -> Option<&'a str> {
    config.sources.get(name)?.replace_with.as_deref()
}

/// The `[registries]` entry whose index is `index`.
fn named_registry(index: &str, config: &CargoSourceConfig) -> Option<String> {
    config
        .registries
        .iter()
        .find(|(_, i)| same_url(i, index))
        .map(|(name, _)| name.clone())
}

/// URLs equal but for a trailing slash or `.git`.
fn same_url(a: &str, b: &str) -> bool {
    let trim = |u: &str| {
        let u = u.trim_end_matches('/');
        u.strip_suffix(".git").unwrap_or(u).to_string()
    };
    trim(a) == trim(b)
}

#[cfg(test)]
mod tests;
