//! BuildKit step names, as the build events carry them.

/// `[builder 2/4] RUN cargo build ...` → (`builder`, 2, `RUN cargo build ...`); `None` for names without a
/// `[stage n/m]` prefix (`copy /context /`, `exporting to image`).
pub fn parse_step(name: &str) -> Option<(&str, u32, &str)> {
    let rest = name.strip_prefix('[')?;
    let (head, instruction) = rest.split_once("] ")?;
    let (stage, counter) = head.rsplit_once(' ')?;
    let n = counter.split_once('/')?.0.parse().ok()?;
    Some((stage, n, instruction.trim_start()))
}
