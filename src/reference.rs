//! Image references as the engine reads them: `[host[:port]/]path[:tag]`.
//!
//! One place knows the grammar: the planner checks every tag with [`check`] before anything is built, tag
//! templates ask [`has_tag`], and the engine splits a reference into repository and tag with [`split_tag`].
//! Pure text: no I/O.

/// The reference without its tag, and the tag: the last `:` after the last `/` (a registry port is not a tag).
fn split(reference: &str) -> (&str, Option<&str>) {
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (reference, None),
    }
}

/// `registry:5000/ns/name:tag` → (`registry:5000/ns/name`, `tag`); `latest` when there is no tag.
pub fn split_tag(reference: &str) -> (&str, &str) {
    let (name, tag) = split(reference);
    (name, tag.unwrap_or("latest"))
}

/// Whether the reference names a tag (`api:1`, `localhost:5000/api:1`; not `localhost:5000/api`).
pub fn has_tag(reference: &str) -> bool {
    split(reference).1.is_some()
}

/// Checks an image reference the way the engine will (`[host[:port]/]path[:tag]`), so a bad `-t`, `--registry`,
/// `image` or `tags` fails here, before anything is built. `Err` says what is wrong.
pub fn check(reference: &str) -> Result<(), String> {
    let (name, tag) = split(reference);
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && !tag.starts_with(['.', '-']);
        if !valid {
            return Err(format!(
                "the tag `{tag}` must be 1-128 of `A-Za-z0-9_.-`, not starting with `.` or `-`"
            ));
        }
    }
    if name.is_empty() || name.len() > 255 {
        return Err("the name must be 1-255 characters".into());
    }
    let mut components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    if components.len() > 1 && (first.contains(['.', ':']) || first == "localhost") {
        let (host, port) = first.split_once(':').unwrap_or((first, "1"));
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        if !host_ok || port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("`{first}` is not a registry host (`host[:port]`)"));
        }
        components.remove(0);
    }
    for component in components {
        let separators_ok = !component.is_empty()
            && !component.starts_with(['.', '_', '-'])
            && !component.ends_with(['.', '_', '-'])
            && !component.contains("..");
        let chars_ok = component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !separators_ok || !chars_ok {
            return Err(format!(
                "`{component}` must be lowercase `a-z0-9`, separated by `.`, `_` or `-`"
            ));
        }
    }
    Ok(())
}

/// The registry a reference goes to, as Docker normalises it: the first component when it names a host (holds a
/// `.` or a `:`, or is `localhost`), else Docker Hub, `docker.io`.
pub fn registry_host(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => DOCKER_HUB,
    }
}

/// Docker Hub's registry host, where a reference without one goes.
pub const DOCKER_HUB: &str = "docker.io";

/// The key credentials of `host` are stored under in the Docker CLI's `config.json` and asked of credential
/// helpers: `https://index.docker.io/v1/` for Docker Hub (`docker login` writes that), the host otherwise.
pub fn auth_server(host: &str) -> String {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            "https://index.docker.io/v1/".to_string()
        }
        other => other.to_string(),
    }
}

/// Whether the reference names a registry host itself (`ghcr.io/a/b`, `localhost:5000/b`, `docker.io/a/b`),
/// rather than going to Docker Hub by default (`api:1`, `acme/api`).
pub fn names_registry(reference: &str) -> bool {
    reference
        .split_once('/')
        .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_host_is_dockers() {
        assert_eq!(registry_host("api:1"), "docker.io");
        assert_eq!(registry_host("acme/api:1"), "docker.io");
        assert_eq!(registry_host("docker.io/acme/api:1"), "docker.io");
        assert_eq!(registry_host("ghcr.io/acme/api:1"), "ghcr.io");
        assert_eq!(registry_host("127.0.0.1:5000/api:1"), "127.0.0.1:5000");
        assert_eq!(registry_host("localhost/api"), "localhost");
        assert!(!names_registry("acme/api:1"));
        assert!(names_registry("docker.io/acme/api:1"));
        assert!(names_registry("localhost:5000/api"));
    }

    #[test]
    fn auth_keys_follow_the_docker_cli() {
        assert_eq!(auth_server("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(
            auth_server("index.docker.io"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(auth_server("ghcr.io"), "ghcr.io");
        assert_eq!(auth_server("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn references_follow_the_engines_grammar() {
        for good in [
            "api:0.3.0",
            "api",
            "acme/api:latest",
            "localhost:5000/acme/api:1",
            "ghcr.io/a_b/c-d.e:V1_2",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in [
            "Api:1",
            "api:-x",
            "api:",
            "ACME/api",
            "api:a b",
            "/api",
            "api/:1",
            "a..b",
            "-api",
            "h@st:5000/api",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_registry_as_docker_reads_it() {
        assert!(names_registry("ghcr.io/acme/api:1"));
        assert!(names_registry("localhost:5000/api"));
        assert!(names_registry("localhost/api"));
        assert!(!names_registry("acme/api:1"));
        assert!(!names_registry("api:1"));
    }

    #[test]
    fn split_tag_handles_registry_ports() {
        assert_eq!(split_tag("api:0.3.0"), ("api", "0.3.0"));
        assert_eq!(
            split_tag("localhost:5000/acme/api:1"),
            ("localhost:5000/acme/api", "1")
        );
        assert_eq!(
            split_tag("localhost:5000/acme/api"),
            ("localhost:5000/acme/api", "latest")
        );
    }

    #[test]
    fn only_a_colon_after_the_last_slash_is_a_tag() {
        assert!(has_tag("api:1"));
        assert!(has_tag("localhost:5000/api:1"));
        assert!(!has_tag("localhost:5000/api"));
        assert!(!has_tag("api"));
    }
}
