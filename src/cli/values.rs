//! Flag values checked where they are read: paths, references, `--build-arg`, `--output`.

use camino::Utf8PathBuf;

/// `--output`'s value before the edge reads `SOURCE_DATE_EPOCH`: what to write, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    pub format: crate::config::OutputFormat,
    pub path: Utf8PathBuf,
}

pub(super) fn parse_output(raw: &str) -> Result<OutputTarget, String> {
    use crate::config::OutputFormat;
    let (format, path) = if let Some(path) = raw.strip_prefix("oci:") {
        (OutputFormat::Oci, path)
    } else if let Some(path) = raw.strip_prefix("oci-archive:") {
        (OutputFormat::OciArchive, path)
    } else {
        return Err(format!(
            "`{}` is not `oci:<dir>` or `oci-archive:<file.tar>`",
            raw.escape_debug()
        ));
    };
    if path.is_empty() {
        return Err(format!("`{raw}` names no path"));
    }
    Ok(OutputTarget {
        format,
        path: path.into(),
    })
}

pub(super) fn parse_dockerfile(raw: &str) -> Result<Utf8PathBuf, String> {
    crate::value::ContextPath::folded(raw)
        .map(|path| path.to_path())
        .map_err(|why| why.to_string())
}

/// A path that reaches a generated file's header and a workflow's `run:` line: one line of text.
pub(super) fn parse_line_path(raw: &str) -> Result<Utf8PathBuf, String> {
    crate::value::check_line(raw)
        .map(|()| raw.into())
        .map_err(|why| why.to_string())
}

pub(super) fn parse_reference(raw: &str) -> Result<String, String> {
    crate::reference::check(raw).map(|()| raw.to_string())
}

pub(super) fn parse_build_arg(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{raw}` is not KEY=VALUE")),
    }
}

/// `--output`'s long help.
pub(super) const OUTPUT_HELP: &str = "After the builds, export each built image from the engine and write them as one OCI image \
            layout: `oci:DIR` (a directory, as `skopeo copy oci:DIR docker://...` and `crane push` read it) or \
            `oci-archive:FILE` (the same layout in one tar). One entry per image, named by its stage \
            (`skopeo inspect oci:DIR:api`); an image built for several platforms is an image index of them. \
            Every layer is rewritten deterministically (entries sorted, modification times clamped to \
            SOURCE_DATE_EPOCH, no user or group names) and compressed by the tool, and the config's times are \
            SOURCE_DATE_EPOCH, so two builds of one commit give the same digests on any engine. \
            SOURCE_DATE_EPOCH: the environment variable, else the last commit's time (a note says when the tree \
            is dirty), else 0. Written to a temporary path beside it and renamed at the end: nothing half-written; \
            an existing layout there is replaced. Not with --push (the engine pushes its own, unnormalised image).";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OutputFormat;

    #[test]
    fn an_output_names_its_form_and_a_path() {
        let parsed = parse_output("oci:dist/images").unwrap();
        assert_eq!(parsed.format, OutputFormat::Oci);
        assert_eq!(parsed.path, "dist/images");
        let parsed = parse_output("oci-archive:a:b.tar").unwrap();
        assert_eq!(parsed.format, OutputFormat::OciArchive);
        assert_eq!(parsed.path, "a:b.tar");
        assert!(parse_output("oci:").unwrap_err().contains("names no path"));
        let err = parse_output("docker-archive:x\n").unwrap_err();
        assert_eq!(
            err,
            "`docker-archive:x\\n` is not `oci:<dir>` or `oci-archive:<file.tar>`"
        );
    }
}
