//! Workspaces for unit tests, built in the words of the test: `ws().member(pkg("api").bin("api").links("openssl-sys"))`.
//!
//! The planner is pure, so its rules are tested on a [`Workspace`] value rather than on fixtures read through
//! Cargo: a test states only what decides the rule it is about (a binary, a native crate, a C++ build script, a
//! table), and everything else takes what `workspace::load` gives a plain workspace (a root at `/ws`, a
//! `Cargo.lock`, no toolchain pin, no Cargo configuration). What a member's dependency closure needs is given for
//! every target triple of the platform table at once, or for some triples only (`.on(triple, |d| ...)`), as the
//! graph reader gives it per triple; native crates are classified by the same [`super::classify`] the graph
//! reader calls, and build tools come from the same table, so a test sees what a real closure would give.
//! Everything is sorted at the end, as `workspace::load` sorts it.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;
use cargo_metadata::semver::Version;

use super::{
    classify, native, toolchain_for_channel, Binary, CargoConfig, Package, ProfileKeys, TargetDeps,
    Toolchain, Workspace,
};
use crate::model::{BuildTool, NativeLink};
use crate::platform::Triple;
use crate::source::Source;

/// A workspace with no member yet.
pub fn ws() -> WorkspaceBuilder {
    WorkspaceBuilder {
        members: Vec::new(),
        default_members: None,
        current_package: None,
        has_lockfile: true,
        toolchain: Toolchain::floating(),
        toolchain_files: Vec::new(),
        config: serde_json::Value::Null,
        profiles: BTreeMap::new(),
        cargo_config: CargoConfig::default(),
    }
}

/// A member named `name` in `crates/<name>`, with no binary yet.
pub fn pkg(name: &str) -> PackageBuilder {
    PackageBuilder {
        name: name.to_string(),
        dir: format!("crates/{name}").into(),
        features: BTreeMap::new(),
        binaries: Vec::new(),
        config: serde_json::Value::Null,
        rust_version: None,
        everywhere: Deps::default(),
        on: Vec::new(),
    }
}

/// A [`Workspace`] on its way.
#[derive(Debug, Clone)]
pub struct WorkspaceBuilder {
    members: Vec<PackageBuilder>,
    default_members: Option<BTreeSet<String>>,
    current_package: Option<String>,
    has_lockfile: bool,
    toolchain: Toolchain,
    toolchain_files: Vec<String>,
    config: serde_json::Value,
    profiles: BTreeMap<String, ProfileKeys>,
    cargo_config: CargoConfig,
}

impl WorkspaceBuilder {
    pub fn member(mut self, package: PackageBuilder) -> Self {
        self.members.push(package);
        self
    }

    /// `default-members` (every member when never called).
    pub fn default_members(mut self, names: &[&str]) -> Self {
        self.default_members = Some(names.iter().map(|n| n.to_string()).collect());
        self
    }

    /// The member the command runs in (a manifest path or the current directory names it).
    pub fn current(mut self, name: &str) -> Self {
        self.current_package = Some(name.to_string());
        self
    }

    pub fn without_lockfile(mut self) -> Self {
        self.has_lockfile = false;
        self
    }

    /// The toolchain a `rust-toolchain.toml` pins.
    pub fn toolchain(mut self, channel: &str) -> Self {
        let source = Source::File {
            path: "rust-toolchain.toml".into(),
            key: None,
        };
        self.toolchain = toolchain_for_channel(channel, source);
        self.toolchain_files = vec!["rust-toolchain.toml".to_string()];
        self
    }

    /// `[workspace.metadata.dockerize]`, as Cargo gives it.
    pub fn config(mut self, table: serde_json::Value) -> Self {
        self.config = table;
        self
    }

    /// A `[profile.<name>]` of the root manifest.
    pub fn profile(mut self, name: &str, keys: ProfileKeys) -> Self {
        self.profiles.insert(name.to_string(), keys);
        self
    }

    /// `.cargo/config.toml` at the workspace root, as text.
    pub fn cargo_config(mut self, text: &str) -> Self {
        self.cargo_config = CargoConfig::from_files([(".cargo/config.toml", text)]);
        self
    }

    pub fn build(self) -> Workspace {
        let mut members: Vec<Package> = self
            .members
            .into_iter()
            .map(PackageBuilder::build)
            .collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        let default_members = self
            .default_members
            .unwrap_or_else(|| members.iter().map(|m| m.name.clone()).collect());
        Workspace {
            root: "/ws".into(),
            target_dir: "/ws/target".into(),
            members,
            default_members,
            current_package: self.current_package,
            has_lockfile: self.has_lockfile,
            toolchain: self.toolchain,
            config: self.config,
            toolchain_files: self.toolchain_files,
            path_packages: Vec::new(),
            profiles: self.profiles,
            cargo_config_tools: Vec::new(),
            cargo_config_files: Vec::new(),
            cargo_config: self.cargo_config,
            git_ssh_hosts: Vec::new(),
            registry_sources: Vec::new(),
        }
    }
}

/// A [`Package`] on its way.
#[derive(Debug, Clone)]
pub struct PackageBuilder {
    name: String,
    dir: Utf8PathBuf,
    features: BTreeMap<String, Vec<String>>,
    binaries: Vec<Binary>,
    config: serde_json::Value,
    rust_version: Option<String>,
    /// What its closure needs on every triple.
    everywhere: Deps,
    /// What it needs besides on some triples only.
    on: Vec<(String, Deps)>,
}

impl PackageBuilder {
    /// A `bin` target (`src/main.rs` when it has the package's name, else `src/bin/<name>.rs`).
    pub fn bin(self, name: &str) -> Self {
        self.bin_requiring(name, &[])
    }

    /// A `bin` target with `required-features`.
    pub fn bin_requiring(mut self, name: &str, features: &[&str]) -> Self {
        let file = if name == self.name {
            "src/main.rs".to_string()
        } else {
            format!("src/bin/{name}.rs")
        };
        self.binaries.push(Binary {
            name: name.to_string(),
            src_path: self.dir.join(file),
            required_features: strings(features),
        });
        self
    }

    /// A feature of the `[features]` table and what it enables.
    pub fn feature(mut self, name: &str, enables: &[&str]) -> Self {
        self.features.insert(name.to_string(), strings(enables));
        self
    }

    /// The member's directory, relative to the workspace root (`.` for the root package).
    pub fn dir(mut self, dir: &str) -> Self {
        self.dir = dir.into();
        self
    }

    /// `[package.metadata.dockerize]`, as Cargo gives it.
    pub fn config(mut self, table: serde_json::Value) -> Self {
        self.config = table;
        self
    }

    pub fn rust_version(mut self, version: &str) -> Self {
        self.rust_version = Some(version.to_string());
        self
    }

    /// What its closure needs on `triple` only, besides what it needs everywhere.
    pub fn on(mut self, triple: &str, deps: impl FnOnce(Deps) -> Deps) -> Self {
        assert!(
            Triple::parse(triple).is_some(),
            "`{triple}` is no triple of the platform table"
        );
        self.on.push((triple.to_string(), deps(Deps::default())));
        self
    }

    /// On every triple: see [`Deps::links`].
    pub fn links(self, krate: &str) -> Self {
        self.everywhere(|d| d.links(krate))
    }

    /// On every triple: see [`Deps::links_with`].
    pub fn links_with(self, krate: &str, features: &[&str]) -> Self {
        self.everywhere(|d| d.links_with(krate, features))
    }

    /// On every triple: see [`Deps::compiles_c`].
    pub fn compiles_c(self, krate: &str) -> Self {
        self.everywhere(|d| d.compiles_c(krate))
    }

    /// On every triple: see [`Deps::compiles_cpp`].
    pub fn compiles_cpp(self, krate: &str) -> Self {
        self.everywhere(|d| d.compiles_cpp(krate))
    }

    /// On every triple: see [`Deps::build_tool`].
    pub fn build_tool(self, krate: &str) -> Self {
        self.everywhere(|d| d.build_tool(krate))
    }

    /// On every triple: see [`Deps::build_links`].
    pub fn build_links(self, krate: &str) -> Self {
        self.everywhere(|d| d.build_links(krate))
    }

    /// On every triple: see [`Deps::test_links`].
    pub fn test_links(self, krate: &str) -> Self {
        self.everywhere(|d| d.test_links(krate))
    }

    fn everywhere(mut self, change: impl FnOnce(Deps) -> Deps) -> Self {
        self.everywhere = change(self.everywhere);
        self
    }

    pub fn build(self) -> Package {
        let mut binaries = self.binaries;
        binaries.sort_by(|a, b| a.name.cmp(&b.name));
        let mut targets = BTreeMap::new();
        for triple in Triple::all().map(Triple::name) {
            let mut deps = self.everywhere.0.clone();
            for (_, more) in self.on.iter().filter(|(t, _)| t == triple) {
                let more = more.0.clone();
                deps.native.extend(more.native);
                deps.build_tools.extend(more.build_tools);
                deps.compiles_c.extend(more.compiles_c);
                deps.compiles_cpp.extend(more.compiles_cpp);
                deps.build_native.extend(more.build_native);
                deps.test_native.extend(more.test_native);
            }
            if deps != TargetDeps::default() {
                targets.insert(triple.to_string(), sorted(deps));
            }
        }
        Package {
            name: self.name,
            version: "0.1.0".into(),
            description: None,
            license: None,
            repository: None,
            homepage: None,
            dir: self.dir,
            features: self.features,
            binaries,
            targets,
            config: self.config,
            rust_version: self.rust_version,
            stubs: Vec::new(),
        }
    }
}

/// What a closure needs on one triple ([`TargetDeps`]), stated crate by crate.
#[derive(Debug, Clone, Default)]
pub struct Deps(TargetDeps);

impl Deps {
    /// A crate of the closure that links a native library (its `links` key is its name without `-sys`), with no
    /// feature enabled: `openssl-sys` links libssl dynamically, an unknown crate builds its C sources statically.
    pub fn links(self, krate: &str) -> Self {
        self.links_with(krate, &[])
    }

    /// A native crate with `features` enabled on it: `links_with("openssl-sys", &["vendored"])` is static.
    pub fn links_with(mut self, krate: &str, features: &[&str]) -> Self {
        self.0.native.push(native_link(krate, features));
        self
    }

    /// A crate whose build script compiles C for the target (through `cc`, `cmake`...).
    pub fn compiles_c(mut self, krate: &str) -> Self {
        self.0.compiles_c.push(krate.to_string());
        self
    }

    /// A crate that compiles C++ for the target (and so C too), as the graph reader words it.
    pub fn compiles_cpp(mut self, krate: &str) -> Self {
        self.0.compiles_c.push(krate.to_string());
        self.0
            .compiles_cpp
            .push(format!("`{krate}`: it compiles C++ sources"));
        self
    }

    /// A crate of the closure whose build runs a tool (`prost-build` runs `protoc`), from the known tools.
    pub fn build_tool(mut self, krate: &str) -> Self {
        let tools: Vec<BuildTool> = native::build_tools(&[(krate, &Version::new(99, 0, 0))]);
        assert!(!tools.is_empty(), "`{krate}` runs no known build tool");
        self.0.build_tools.extend(tools);
        self
    }

    /// A native crate that a build script or proc macro of the closure links on the builder.
    pub fn build_links(mut self, krate: &str) -> Self {
        self.0.build_native.push(native_link(krate, &[]));
        self
    }

    /// A native crate the member's tests link (dev-dependencies included).
    pub fn test_links(mut self, krate: &str) -> Self {
        self.0.test_native.push(native_link(krate, &[]));
        self
    }
}

/// `krate` as the graph reader classifies it, with `features` enabled on it.
fn native_link(krate: &str, features: &[&str]) -> NativeLink {
    let links = krate.trim_end_matches("-sys").trim_start_matches("lib");
    classify(krate, Some(links), &strings(features), &[krate])
        .unwrap_or_else(|| panic!("`{krate}` links nothing native"))
}

/// Each list sorted and without repeats, as the graph reader gives them.
fn sorted(mut deps: TargetDeps) -> TargetDeps {
    deps.native.sort();
    deps.native.dedup();
    deps.build_tools.sort();
    deps.build_tools.dedup();
    for list in [&mut deps.compiles_c, &mut deps.compiles_cpp] {
        list.sort();
        list.dedup();
    }
    deps.build_native.sort();
    deps.build_native.dedup();
    deps.test_native.sort();
    deps.test_native.dedup();
    deps
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Linkage;

    const MUSL: &str = "x86_64-unknown-linux-musl";
    const GNU: &str = "x86_64-unknown-linux-gnu";

    #[test]
    fn native_crates_are_classified_as_the_graph_reader_classifies_them() {
        let package = pkg("api")
            .links("openssl-sys")
            .links_with("libsqlite3-sys", &["bundled"])
            .links("ring")
            .build();
        let native: Vec<(&str, Linkage)> = package
            .target(GNU)
            .native
            .iter()
            .map(|n| (n.krate.as_str(), n.linkage))
            .collect();
        assert_eq!(
            native,
            [
                ("libsqlite3-sys", Linkage::Static),
                ("openssl-sys", Linkage::Dynamic),
                ("ring", Linkage::Static),
            ]
        );
        assert_eq!(
            package.target(GNU).native[1].build_packages,
            ["libssl-dev", "pkg-config"]
        );
    }

    #[test]
    fn what_is_given_for_one_triple_stays_on_that_triple() {
        let package = pkg("api")
            .compiles_c("zstd-sys")
            .on(MUSL, |d| d.links("openssl-sys").compiles_c("aws-lc-sys"))
            .build();
        assert_eq!(package.target(MUSL).compiles_c, ["aws-lc-sys", "zstd-sys"]);
        assert_eq!(package.target(GNU).compiles_c, ["zstd-sys"]);
        assert!(package.target(GNU).native.is_empty());
        assert_eq!(
            package.target("aarch64-unknown-linux-musl").compiles_c,
            ["zstd-sys"]
        );
    }

    #[test]
    fn members_and_binaries_come_sorted_with_their_sources() {
        let workspace = ws()
            .member(pkg("worker").bin("worker"))
            .member(pkg("api").bin("api").bin("admin"))
            .build();
        let names: Vec<&str> = workspace.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["api", "worker"]);
        let api = &workspace.members[0];
        let sources: Vec<(&str, &str)> = api
            .binaries
            .iter()
            .map(|b| (b.name.as_str(), b.src_path.as_str()))
            .collect();
        assert_eq!(
            sources,
            [
                ("admin", "crates/api/src/bin/admin.rs"),
                ("api", "crates/api/src/main.rs")
            ]
        );
        assert_eq!(workspace.default_members.len(), 2);
    }
}
