//! Values written into Dockerfile instructions, each in the form its instruction's parser reads: paths in `COPY`,
//! JSON arrays in `ENTRYPOINT`/`CMD`, double-quoted values in `ENV` and `LABEL`. Words for `sh` inside `RUN` are
//! quoted by [`crate::text::shell_word`].

/// A path in COPY: Dockerfile paths are split on whitespace, so quote the JSON form when needed.
pub fn dockerfile_path(path: &str) -> String {
    if path.chars().any(char::is_whitespace) {
        json_string(path)
    } else {
        path.to_string()
    }
}

/// The sources and destination of a `COPY`: plain words, or the JSON form of them all when one holds whitespace
/// (a shell-form `COPY` splits on whitespace, JSON-quoted words included). Flags (`--from`, `--chown`) go before
/// it, which both forms allow. The paths hold no `\\`, `$` or quotes (`crate::value`).
pub fn copy_paths(paths: &[String]) -> String {
    if paths.iter().any(|p| p.chars().any(char::is_whitespace)) {
        json_array(paths)
    } else {
        paths.join(" ")
    }
}

pub fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings always serialise")
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serialises")
}

/// A LABEL value: double-quoted, with `"`, `\` and `$` escaped and newlines folded, as the Dockerfile parser wants.
pub fn label_value(value: &str) -> String {
    let folded: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::from("\"");
    for c in folded.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Text for a `#` comment line: whitespace (newlines included) folded to single spaces and control characters
/// dropped, so a value from the workspace's files cannot end the comment and start an instruction.
pub fn comment_text(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_with_whitespace_take_the_json_form_whole() {
        let paths = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(copy_paths(&paths(&["a", "/b/"])), "a /b/");
        assert_eq!(
            copy_paths(&paths(&["static files", "/srv/my app"])),
            r#"["static files","/srv/my app"]"#
        );
    }

    #[test]
    fn comments_stay_on_their_line() {
        assert_eq!(
            comment_text("`-C target-cpu=native\nRUN evil`\r\u{1b}[0m x"),
            "`-C target-cpu=native RUN evil` [0m x"
        );
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label_value("a \"b\" $HOME\nc\\"), r#""a \"b\" \$HOME c\\""#);
    }
}
