//! Text for people and for shells: "did you mean", quoting a word for `sh`, sizes and durations as Docker
//! shows them, and aligned tables.
//!
//! Pure functions over strings, used wherever a message, a table or a generated command line is written.

use std::fmt::Write as _;

/// The closest name within a small edit distance, for "did you mean".
pub fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c.clone())
}

/// Text for a terminal: every control character but newline and tab, and Unicode's bidirectional overrides,
/// shown as its escape (`\u{1b}`), so a name, a path, an error or a build log read from the workspace or the
/// engine cannot move the cursor, recolour or retitle the terminal, hide what came before it (`\r`) or reorder
/// what it shows. Every human line goes through it where it is written (the shell, the progress display,
/// `list`); JSON output escapes on its own.
pub fn for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A word for `sh`: bare when it is plain, else single-quoted.
pub fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:+@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A Rust release (`1.96`, `1.95.0`, `1.97.0-nightly`) as numbers that order as releases do: `1.96.0` after
/// `1.96`, the pre-release suffix dropped; `None` when it is not one.
pub fn release_key(version: &str) -> Option<Vec<u64>> {
    let release = version.trim().split(['-', '+']).next()?;
    release.split('.').map(|part| part.parse().ok()).collect()
}

/// Docker's way of showing sizes: decimal units, three significant digits.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.2} {}", UNITS[unit])
    } else if value < 100.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `12.3s`, `2m05s`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart, no trailing blanks: the shape of
/// `list` and of the build summary. One line per row, each ending in a newline.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_string);
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// `seconds` since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ`, the form SPDX, CycloneDX, in-toto and the OCI image config read.
pub fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_control_characters_escaped() {
        for (text, shown) in [
            ("api", "api"),
            ("two\nlines\tand a tab", "two\nlines\tand a tab"),
            ("\u{1b}[31mred\u{1b}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("\u{1b}]0;title\u{7}", "\\u{1b}]0;title\\u{7}"),
            ("hidden\rshown", "hidden\\rshown"),
            ("a\u{202e}b", "a\\u{202e}b"),
            ("\u{9b}31m", "\\u{9b}31m"),
        ] {
            assert_eq!(for_terminal(text), shown, "{text:?}");
        }
        assert!(matches!(
            for_terminal("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn closest_suggests_near_names_only() {
        let names = vec!["worker".to_string(), "api".to_string()];
        assert_eq!(closest("wroker", &names).as_deref(), Some("worker"));
        assert_eq!(closest("zzzzzzzz", &names), None);
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("api"), "api");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn sizes_and_durations_read_like_docker() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_642_765), "1.64 MB");
        assert_eq!(human_size(31_400_000), "31.4 MB");
        assert_eq!(human_duration(3.21), "3.2s");
        assert_eq!(human_duration(125.0), "2m05s");
    }

    #[test]
    fn tables_align_columns_and_trim_line_ends() {
        let rows = [
            ["api".to_string(), "1.64 MB".to_string(), String::new()],
            [
                "worker-long".to_string(),
                "3 B".to_string(),
                "x".to_string(),
            ],
        ];
        assert_eq!(
            table(["NAME", "SIZE", "NOTE"], &rows),
            "NAME         SIZE     NOTE\napi          1.64 MB\nworker-long  3 B      x\n"
        );
    }
}
