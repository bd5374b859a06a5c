use super::*;

const SPARSE: &str = "sparse+https://cargo.example.com/index/";

fn config(text: &str) -> CargoSourceConfig {
    CargoSourceConfig::parse(text)
}

fn sources(used: &[&str], text: &str) -> DependencySources {
    dependency_sources(used.iter().copied(), &config(text), Utf8Path::new("/ws"))
}

#[test]
fn git_sources_name_their_host_and_port() {
    let ssh = GitRepository::from_source(
        "git+ssh://git@127.0.0.1:2222/srv/auth.git?branch=main#0123456789abcdef",
    )
    .unwrap();
    assert_eq!(ssh.url, "ssh://git@127.0.0.1:2222/srv/auth.git");
    assert_eq!(ssh.transport, GitTransport::Ssh);
    assert_eq!((ssh.host.as_str(), ssh.port), ("127.0.0.1", Some(2222)));
    assert_eq!(ssh.known_hosts_name(), "[127.0.0.1]:2222");
    let https = GitRepository::from_source("git+https://github.com/acme/auth#abc").unwrap();
    assert_eq!(https.transport, GitTransport::Https);
    assert_eq!(https.known_hosts_name(), "github.com");
    let v6 = GitRepository::from_source("git+ssh://git@[::1]:22/x.git#a").unwrap();
    assert_eq!(
        (v6.host.as_str(), v6.known_hosts_name().as_str()),
        ("::1", "::1")
    );
    assert!(GitRepository::from_source(CRATES_IO).is_none());
}

#[test]
fn a_registry_of_the_configuration_is_found_by_its_index() {
    let found = sources(
        &[
            CRATES_IO,
            SPARSE,
            "registry+https://other.example.com/index",
        ],
        r#"
        [registries.private]
        index = "sparse+https://cargo.example.com/index"
        "#,
    );
    assert_eq!(found.registries, ["private"]);
    assert_eq!(found.unnamed, ["https://other.example.com/index"]);
    assert!(found.git.is_empty() && found.vendored.is_empty());
}

#[test]
fn a_mirror_in_place_of_crates_io_is_the_registry_fetched_from() {
    let found = sources(
        &[CRATES_IO],
        r#"
        [source.crates-io]
        replace-with = "mirror"
        [registries.mirror]
        index = "sparse+https://mirror.example.com/index/"
        "#,
    );
    assert_eq!(found.registries, ["mirror"]);
    let anonymous = sources(
        &[CRATES_IO],
        r#"
        [source.crates-io]
        replace-with = "mirror"
        [source.mirror]
        registry = "sparse+https://mirror.example.com/index/"
        "#,
    );
    assert!(anonymous.registries.is_empty());
}

#[test]
fn vendored_sources_replace_registries_and_git_repositories() {
    // What `cargo vendor` writes.
    let text = r#"
        [source.crates-io]
        replace-with = "vendored-sources"

        [source."git+ssh://git@git.example.com/auth.git"]
        git = "ssh://git@git.example.com/auth.git"
        replace-with = "vendored-sources"

        [source.vendored-sources]
        directory = "vendor"
        "#;
    let found = sources(
        &[CRATES_IO, "git+ssh://git@git.example.com/auth.git#abc"],
        text,
    );
    assert_eq!(found.vendored, [Utf8PathBuf::from("vendor")]);
    assert!(found.git.is_empty() && found.registries.is_empty());
    let absolute = sources(
        &[CRATES_IO],
        "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"/ws/third/vendor\"\n",
    );
    assert_eq!(absolute.vendored, [Utf8PathBuf::from("third/vendor")]);
    let outside = sources(
        &[CRATES_IO],
        "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\nlocal-registry = \"/srv/vendor\"\n",
    );
    assert_eq!(outside.vendored_outside, [Utf8PathBuf::from("/srv/vendor")]);
}

#[test]
fn git_repositories_are_listed_once_and_public_transports_ask_nothing() {
    let found = sources(
        &[
            "git+ssh://git@git.example.com/auth.git#a",
            "git+ssh://git@git.example.com/auth.git?branch=dev#b",
            "git+https://github.com/acme/x#c",
            "git+http://intranet/x#d",
        ],
        "[net]\ngit-fetch-with-cli = true\n",
    );
    let urls: Vec<&str> = found.git.iter().map(|g| g.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://github.com/acme/x",
            "ssh://git@git.example.com/auth.git"
        ]
    );
    assert!(found.git_fetch_with_cli);
}

#[test]
fn the_first_configuration_file_wins() {
    let toml = config("[registries.a]\nindex = \"sparse+https://one/\"\n");
    let legacy =
        config("[registries.a]\nindex = \"sparse+https://two/\"\n[registries.b]\nindex = \"x\"\n");
    let merged = toml.merged(legacy);
    assert_eq!(merged.registries["a"], "sparse+https://one/");
    assert_eq!(merged.registries["b"], "x");
    assert_eq!(config("not toml ["), CargoSourceConfig::default());
}
