//! The words a generated file's parsers see, for the property tests (`tests/props.rs`): an instruction's
//! arguments as BuildKit's word lexer reads them (quotes and `\` removed, `$` expansions marked), and a `RUN`
//! command as `sh` tokenizes it (operators apart from words, quoting removed, expansions marked). Two renderings
//! compare equal word for word only when a value went in as data: a value that ends a word, a line or a command,
//! or that expands, changes the tokens.

/// Where a word holds an expansion (`$X`, `${X}`, `$(…)`, `` `…` ``) rather than the literal text: a literal `$`
/// and an expanding one differ.
pub const EXPANDS: char = '\u{E000}';

/// One token of a shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(String),
    /// `;`, `&&`, `|`, `>`, a newline (as `;`)...
    Op(String),
    Comment(String),
}

/// A Dockerfile instruction's logical line: continuation lines joined (Docker drops the escape and the line
/// break, and comment and blank lines inside a continued instruction).
pub fn logical_line(raw: &str) -> String {
    let mut out = String::new();
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 && (line.trim_start().starts_with('#') || line.trim().is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(joined) => out.push_str(joined),
            None => {
                out.push_str(line);
                break;
            }
        }
    }
    out
}

/// The arguments of a Dockerfile instruction as BuildKit's word lexer reads them (`ProcessWords`): split on
/// unquoted whitespace, `\` escaping the next character (in double quotes only `"`, `$` and `\`), single quotes
/// literal, and `$NAME` / `${…}` marked with [`EXPANDS`].
pub fn docker_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            words.extend(word.take());
            i += 1;
            continue;
        }
        let w = word.get_or_insert_with(String::new);
        match c {
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    w.push(next);
                }
                i += 2;
            }
            '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    w.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if matches!(chars.get(i + 1), Some('"' | '$' | '\\')) => {
                            w.push(chars[i + 1]);
                            i += 2;
                        }
                        '$' => i = docker_dollar(&chars, i, w),
                        other => {
                            w.push(other);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            '$' => i = docker_dollar(&chars, i, w),
            other => {
                w.push(other);
                i += 1;
            }
        }
    }
    words.extend(word);
    words
}

/// `$` at `i`: an expansion when a name or `{` follows (marked, the name kept), else a literal `$`.
fn docker_dollar(chars: &[char], i: usize, w: &mut String) -> usize {
    match chars.get(i + 1) {
        Some(c) if c.is_ascii_alphanumeric() || *c == '_' || *c == '{' => {
            w.push(EXPANDS);
            i + 1
        }
        _ => {
            w.push('$');
            i + 1
        }
    }
}

/// `command` as POSIX `sh` tokenizes it: words with their quoting removed and expansions marked, operators and
/// comments apart. `None` when a quote or a substitution is left open (what `sh -n` refuses).
pub fn shell_tokens(command: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = command.chars().collect();
    let mut tokens = Vec::new();
    let mut word: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                tokens.extend(word.take().map(Token::Word));
                i += 1;
            }
            '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => {
                tokens.extend(word.take().map(Token::Word));
                let mut op = if c == '\n' {
                    ";".to_string()
                } else {
                    c.to_string()
                };
                if let Some(&next) = chars.get(i + 1) {
                    let two: String = [c, next].iter().collect();
                    if matches!(
                        two.as_str(),
                        "&&" | "||" | ";;" | ">>" | "<<" | ">&" | "<&" | "<>" | ">|"
                    ) {
                        op = two;
                        i += 1;
                    }
                }
                tokens.push(Token::Op(op));
                i += 1;
            }
            '#' if word.is_none() => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| i + p);
                tokens.push(Token::Comment(chars[i + 1..end].iter().collect()));
                i = end;
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                match chars.get(i + 1) {
                    Some('\n') => {}
                    Some(&next) => w.push(next),
                    None => w.push('\\'),
                }
                i += 2;
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                let end = chars[i + 1..].iter().position(|&c| c == '\'')? + i + 1;
                w.extend(&chars[i + 1..end]);
                i = end + 1;
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                i += 1;
                loop {
                    match chars.get(i)? {
                        '"' => break,
                        '\\' if matches!(chars.get(i + 1), Some('$' | '`' | '"' | '\\' | '\n')) => {
                            if chars[i + 1] != '\n' {
                                w.push(chars[i + 1]);
                            }
                            i += 2;
                        }
                        '$' | '`' => i = shell_expansion(&chars, i, w)?,
                        &other => {
                            w.push(other);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            '$' | '`' => {
                let w = word.get_or_insert_with(String::new);
                i = shell_expansion(&chars, i, w)?;
            }
            other => {
                word.get_or_insert_with(String::new).push(other);
                i += 1;
            }
        }
    }
    tokens.extend(word.map(Token::Word));
    Some(tokens)
}

/// An expansion at `i` (`$name`, `${…}`, `$(…)`, `$((…))`, `` `…` ``): [`EXPANDS`] and its text pushed to `w`,
/// the index after it returned; a lone `$` is literal. `None` when it is left open.
fn shell_expansion(chars: &[char], i: usize, w: &mut String) -> Option<usize> {
    let (open, close, start) = match (chars[i], chars.get(i + 1)) {
        ('`', _) => {
            let end = chars[i + 1..].iter().position(|&c| c == '`')? + i + 1;
            w.push(EXPANDS);
            w.extend(&chars[i + 1..end]);
            return Some(end + 1);
        }
        ('$', Some('(')) => ('(', ')', i + 1),
        ('$', Some('{')) => ('{', '}', i + 1),
        ('$', Some(c))
            if c.is_ascii_alphanumeric()
                || matches!(c, '_' | '@' | '*' | '#' | '?' | '-' | '!') =>
        {
            w.push(EXPANDS);
            let mut j = i + 1;
            if c.is_ascii_alphabetic() || *c == '_' {
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    w.push(chars[j]);
                    j += 1;
                }
            } else {
                w.push(*c);
                j += 1;
            }
            return Some(j);
        }
        _ => {
            w.push('$');
            return Some(i + 1);
        }
    };
    let mut depth = 0;
    let mut j = start;
    while j < chars.len() {
        if chars[j] == open {
            depth += 1;
        } else if chars[j] == close {
            depth -= 1;
            if depth == 0 {
                w.push(EXPANDS);
                w.extend(&chars[start..=j]);
                return Some(j + 1);
            }
        }
        j += 1;
    }
    None
}
