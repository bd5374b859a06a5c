//! Paths taken apart by their text alone, without asking the file system: what Go's `filepath.Clean` does for a
//! `.dockerignore` pattern, what keeps an asset inside the build context, what names a `[patch]` directory.

/// The parts of `path` with empty and `.` parts dropped and each `..` taking away the part before it. The flag says
/// whether a `..` had nothing left to take away (it climbed above where `path` starts); such a `..` is dropped.
pub fn lexical_parts(path: &str) -> (Vec<&str>, bool) {
    let mut parts = Vec::new();
    let mut escaped = false;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => escaped |= parts.pop().is_none(),
            other => parts.push(other),
        }
    }
    (parts, escaped)
}

/// `/a/b/../c` → `/a/c`; a relative path stays relative.
pub fn normalize(path: &camino::Utf8Path) -> camino::Utf8PathBuf {
    let (parts, _) = lexical_parts(path.as_str());
    let joined = parts.join("/");
    if path.is_absolute() {
        format!("/{joined}").into()
    } else {
        joined.into()
    }
}

/// `a/./b/../c` → `a/c`, keeping the `..` that climb above where a relative path starts (`../x/../y` → `../y`).
pub fn fold(path: &camino::Utf8Path) -> camino::Utf8PathBuf {
    if path.is_absolute() {
        return normalize(path);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.as_str().split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/").into()
}

/// A path relative to a directory that must stay inside it (the Dockerfile's place in the workspace): folded with
/// [`lexical_parts`], `Err` saying why when it is absolute, climbs out with `..`, names the directory itself, or
/// ends in `/`.
pub fn inside(path: &str) -> Result<camino::Utf8PathBuf, String> {
    if path.starts_with('/') || path.starts_with('\\') {
        return Err("must be relative to the workspace root, not absolute".into());
    }
    if path.ends_with('/') {
        return Err("must name a file, not a directory".into());
    }
    let (parts, escaped) = lexical_parts(path);
    if escaped {
        return Err("leaves the workspace, and with it the build context".into());
    }
    if parts.is_empty() {
        return Err("must name a file in the workspace".into());
    }
    Ok(parts.join("/").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_fold_and_climbing_out_is_reported() {
        assert_eq!(lexical_parts("a/./b/../c/"), (vec!["a", "c"], false));
        assert_eq!(lexical_parts("../x"), (vec!["x"], true));
        assert_eq!(normalize("/w/a/../b".into()), "/w/b");
        assert_eq!(normalize("a/../../b".into()), "b");
    }

    #[test]
    fn fold_keeps_the_climb_of_a_relative_path() {
        assert_eq!(
            fold("../.github/./workflows/x.yml".into()),
            "../.github/workflows/x.yml"
        );
        assert_eq!(fold("../a/../../b".into()), "../../b");
        assert_eq!(fold("a/../b".into()), "b");
        assert_eq!(fold("/w/../x".into()), "/x");
    }

    #[test]
    fn inside_keeps_paths_in_their_directory() {
        assert_eq!(inside("./docker//Dockerfile").unwrap(), "docker/Dockerfile");
        assert_eq!(inside("a/../Dockerfile.x").unwrap(), "Dockerfile.x");
        for bad in [
            "/etc/Dockerfile",
            "../Dockerfile",
            "a/../../b",
            ".",
            "",
            "docker/",
        ] {
            assert!(inside(bad).is_err(), "{bad}");
        }
    }
}
