//! clap's error shown safely: a refused value holding a character no line may hold is shown escaped.

/// Prints clap's error (or help) and exits with its code. clap quotes a refused value as it was given, so a
/// value holding a line break, a carriage return or an escape sequence would rewrite the terminal or forge a line:
/// those values are shown escaped instead, as every other refusal shows them.
pub(super) fn exit_with(mut error: clap::Error) -> ! {
    escape_values(&mut error);
    error.exit()
}

/// Replaces each value in `error`'s context that holds a character no line may hold with its escaped form
/// (`\n`, `\u{1b}`), which clap's message then quotes.
fn escape_values(error: &mut clap::Error) {
    use clap::error::ContextValue;
    let escape = |value: &str| {
        value
            .chars()
            .any(crate::value::is_line_unsafe)
            .then(|| crate::value::escaped(value))
    };
    let replaced: Vec<_> = error
        .context()
        .filter_map(|(kind, value)| match value {
            ContextValue::String(one) => escape(one).map(|e| (kind, ContextValue::String(e))),
            ContextValue::Strings(many) if many.iter().any(|v| escape(v).is_some()) => Some((
                kind,
                ContextValue::Strings(many.iter().map(|v| crate::value::escaped(v)).collect()),
            )),
            _ => None,
        })
        .collect();
    for (kind, value) in replaced {
        error.insert(kind, value);
    }
}
