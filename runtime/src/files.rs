//! Reading specs from disk and writing artifacts without leaving a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use generator::ingest::openapi::RefLoader;

/// The largest file a `$ref` may name (as large as a spec may be).
const MAX_REF_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the files a spec's relative `$ref`s name, from under one
/// directory only: the spec's own, unless the caller widens it
/// ([`DirLoader::within`], `executor generate --refs-under`). A `$ref` that
/// climbs out (`../../etc/passwd`, or a symlink pointing elsewhere) is
/// refused: a spec from elsewhere must not copy local files into an export.
pub struct DirLoader {
    root: PathBuf,
    boundary: PathBuf,
    file_name: Option<String>,
}

impl DirLoader {
    /// A loader for refs in the spec at `spec_path`.
    pub fn for_spec(spec_path: &Path) -> Self {
        let root = spec_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let file_name = spec_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        DirLoader {
            boundary: root.clone(),
            root,
            file_name,
        }
    }

    /// Lets refs reach files under `boundary` (which should contain the
    /// spec's directory) instead of only the spec's own directory.
    pub fn within(mut self, boundary: &Path) -> Self {
        self.boundary = boundary.to_path_buf();
        self
    }
}

impl RefLoader for DirLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        let full = self.root.join(path);
        let refused = || {
            format!(
                "{path} is outside {}, the only directory refs may read; widen it with `executor generate --refs-under DIR`",
                self.boundary.display()
            )
        };
        let boundary = self.boundary.canonicalize().map_err(|e| e.to_string())?;
        let real = full.canonicalize().map_err(|e| e.to_string())?;
        if !real.starts_with(&boundary) {
            return Err(refused());
        }
        let size = std::fs::metadata(&real).map_err(|e| e.to_string())?.len();
        if size > MAX_REF_FILE_BYTES {
            return Err(format!("{path} is larger than 64 MiB"));
        }
        std::fs::read_to_string(&real).map_err(|e| e.to_string())
    }

    fn root_file(&self) -> Option<&str> {
        self.file_name.as_deref()
    }
}

/// Reads a text file, saying which file failed.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename, so a crash never leaves half a file behind.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?
        .to_string_lossy()
        .into_owned();
    let temp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
