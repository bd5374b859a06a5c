//! The git servers the builder fetches dependencies from over ssh: what `RUN --mount=type=ssh` and the host keys
//! it checks are for. Read from the sources of the resolve (`git+ssh://[user@]host[:port]/path?..#rev`). Pure.

/// The hosts of the `git+ssh://` sources among `sources`, as `known_hosts` names them (`host`, or `[host]:port`
/// for a port other than 22), sorted, each once.
pub fn ssh_hosts<'a>(sources: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut hosts: Vec<String> = sources.into_iter().filter_map(ssh_host).collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn ssh_host(source: &str) -> Option<String> {
    let rest = source.strip_prefix("git+ssh://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse::<u16>().ok()),
        _ => (host_port, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some(match port {
        Some(port) if port != 22 => format!("[{host}]:{port}"),
        _ => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_sources_give_their_known_hosts_names() {
        let hosts = ssh_hosts([
            "git+ssh://git@git.example.com/platform/auth.git#0123abcd",
            "git+ssh://root@127.0.0.1:2222/srv/repo.git?branch=main#abc",
            "git+ssh://git@git.example.com:22/other.git#1",
            "git+https://github.com/rust-lang/regex#abc",
            "registry+https://github.com/rust-lang/crates.io-index",
        ]);
        assert_eq!(hosts, ["[127.0.0.1]:2222", "git.example.com"]);
    }
}
