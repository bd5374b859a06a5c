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
