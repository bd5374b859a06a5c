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
}
