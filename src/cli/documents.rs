//! The flags of the documents `--push` attaches to each pushed image: `--sbom`, `--provenance`,
//! `--no-provenance`.

use clap::Args;

use crate::config::{SbomFormat, SbomList};

#[derive(Debug, Args, Clone, Default)]
pub struct DocumentArgs {
    /// With --push: the SBOMs attached to each pushed image and platform as OCI 1.1 referrers: spdx, cyclonedx (comma-separated) or none [default: the table's `sbom`, else both]
    #[arg(
        long,
        global = true,
        value_name = "FORMATS",
        value_parser = SbomFormat::parse_list,
        help_heading = "Publishing"
    )]
    pub sbom: Option<SbomList>,
    /// With --push: attach each image's SLSA provenance (an in-toto statement) as an OCI 1.1 referrer [default: the table's `provenance`, else yes]
    #[arg(
        long,
        global = true,
        overrides_with = "no_provenance",
        help_heading = "Publishing"
    )]
    pub provenance: bool,
    /// With --push: attach no provenance
    #[arg(
        long,
        global = true,
        overrides_with = "provenance",
        help_heading = "Publishing"
    )]
    pub no_provenance: bool,
}

impl DocumentArgs {
    /// The first of these flags that is set, for commands that do not build.
    pub fn flag(&self) -> Option<&'static str> {
        let Self {
            sbom,
            provenance,
            no_provenance,
        } = self;
        [
            (sbom.is_some(), "--sbom"),
            (*provenance, "--provenance"),
            (*no_provenance, "--no-provenance"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }

    /// `--provenance` / `--no-provenance`, the last one given (clap keeps only that one).
    pub fn provenance(&self) -> Option<bool> {
        match (self.provenance, self.no_provenance) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SbomFormat::{Cyclonedx, Spdx};

    #[test]
    fn sbom_lists_are_read_sorted_and_once() {
        let read = |text: &str| SbomFormat::parse_list(text).map(|l| l.0);
        assert_eq!(read("spdx"), Ok(vec![Spdx]));
        assert_eq!(read("cyclonedx, spdx,spdx"), Ok(vec![Spdx, Cyclonedx]));
        assert_eq!(read("none"), Ok(vec![]));
        let refused = read("spdx,swid\u{1b}[2J").unwrap_err();
        assert!(
            refused.contains("`swid\\u{1b}[2J` is no SBOM format"),
            "{refused}"
        );
        assert!(read("").is_err(), "an empty list is written `none`");
    }

    #[test]
    fn the_last_provenance_flag_wins_and_each_is_build_only() {
        let parse = |args: &[&str]| {
            let mut all = vec!["cargo", "dockerize"];
            all.extend_from_slice(args);
            let crate::cli::CargoCli::Dockerize(cli) =
                <crate::cli::CargoCli as clap::Parser>::try_parse_from(all).expect("parses");
            cli
        };
        let cli = parse(&["--provenance", "--no-provenance"]);
        assert_eq!(cli.build.documents.provenance(), Some(false));
        assert_eq!(cli.build.documents.flag(), Some("--no-provenance"));
        let cli = parse(&["--no-provenance", "--provenance", "--sbom", "none"]);
        assert_eq!(cli.build.documents.provenance(), Some(true));
        assert_eq!(cli.build.build_only_flag(), Some("--sbom"));
        assert_eq!(parse(&[]).build.documents.provenance(), None);
    }
}
