//! Reading specs from disk and writing artifacts without leaving a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use generator::ingest::openapi::RefLoader;

/// Reads the files a spec's relative `$ref`s name, below the spec's own
/// directory only (the generator refuses paths that climb out of it).
pub struct DirLoader {
    root: PathBuf,
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
        DirLoader { root, file_name }
    }
}

impl RefLoader for DirLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        let full = self.root.join(path);
        std::fs::read_to_string(&full).map_err(|e| e.to_string())
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
