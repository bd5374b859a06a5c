//! `--output`'s value: `oci:<dir>` or `oci-archive:<file>`, checked where it is read.

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
