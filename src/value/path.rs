//! Paths that reach the Dockerfile: in the image (`workdir`, an asset's destination) and in the build context (an
//! asset's source, the Dockerfile's own path, a package's directory). Docker reads `$`, quotes and `\` in the
//! words of `COPY` and `WORKDIR`, so a path holds none of them (nor what no line may hold); a space is kept, and
//! the renderer writes such a `COPY` in its JSON form.

use camino::Utf8PathBuf;

use super::{check_size, check_word, checked_string, Refused, MAX_NAME_BYTES};

/// An absolute path in the image: `/srv/app`, `/app/static files`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImagePath(String);

impl ImagePath {
    fn check(value: &str) -> Result<(), Refused> {
        check_word(value)?;
        check_size(value, MAX_NAME_BYTES)?;
        if !value.starts_with('/') {
            return Err(Refused::new(value, "must be an absolute path in the image"));
        }
        Ok(())
    }

    /// `/app`: the workspace in the builders, and the working directory of an image with assets.
    pub fn app() -> Self {
        Self(crate::model::APP_DIR.to_string())
    }

    /// `<self>/<name>`; `name` is a checked path's last part, so the result is one too.
    pub fn join(&self, name: &ContextPath) -> Self {
        let file = name.0.rsplit('/').next().unwrap_or(&name.0);
        Self(format!("{}/{file}", self.0.trim_end_matches('/')))
    }
}
checked_string!(ImagePath);

/// A path relative to the build context (or to the workspace root), folded and staying inside it:
/// `static/index.html`, `docker/Dockerfile.dockerize`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContextPath(String);

impl ContextPath {
    fn check(value: &str) -> Result<(), Refused> {
        check_word(value)?;
        check_size(value, MAX_NAME_BYTES)?;
        match crate::paths::inside(value) {
            Ok(folded) if folded == value => Ok(()),
            Ok(folded) => Err(Refused::new(value, format!("is not folded (`{folded}`)"))),
            Err(why) => Err(Refused::new(value, why)),
        }
    }

    /// `path`, folded ([`crate::paths::inside`]): `./docker//Dockerfile` → `docker/Dockerfile`.
    pub fn folded(path: &str) -> Result<Self, Refused> {
        check_word(path)?;
        let folded = crate::paths::inside(path).map_err(|why| Refused::new(path, why))?;
        Self::try_from(folded.into_string())
    }

    /// The path as a `Utf8PathBuf`.
    pub fn to_path(&self) -> Utf8PathBuf {
        Utf8PathBuf::from(&self.0)
    }
}
checked_string!(ContextPath);

/// Checks a directory's path relative to the build context, as the planner and the header write it (a member's
/// or a path package's directory; `""` for the context root itself).
pub fn check_dir(dir: &str) -> Result<(), Refused> {
    if dir.is_empty() || dir == "." {
        return Ok(());
    }
    check_word(dir)?;
    check_size(dir, MAX_NAME_BYTES)
}
