//! The corpus of real API descriptions in `tests/fixtures/corpus/` (OpenAPI
//! and GraphQL, see its README and SOURCES.tsv files), materialised for
//! reading: files over 1 MiB are stored zstd-compressed (`<name>.zst`), so
//! the tests and benchmarks read an unpacked mirror under
//! `<repo>/target/test-fixtures/corpus/` that looks exactly like the
//! original tree (relative `$ref`s between files keep working).
//!
//! The mirror is made once and reused while a stamp of the source tree
//! (every file's path, size and modification time) is unchanged. Test
//! binaries run in parallel: a file lock serialises the check, and the copy
//! is built in a temporary folder then renamed into place.
//!
//! Shared by tests/support/mod.rs and benches/invoke.rs (`#[path]`), so it
//! depends on nothing but std and ruzstd.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

/// Bumped when the mirror's layout or the stamp's format changes.
const FORMAT: &str = "corpus mirror v1";

/// The unpacked corpus: `openapi/`, `graphql/` and `README.md`, as in
/// `tests/fixtures/corpus/` with every `.zst` file decompressed.
pub fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let source = root.join("tests/fixtures/corpus");
        assert!(
            source.join("openapi").is_dir(),
            "{} is missing: the fixture corpus is part of the repository",
            source.display()
        );
        // Under this checkout's own target/, whatever CARGO_TARGET_DIR says,
        // so two checkouts sharing a target directory never share a mirror.
        let parent = root.join("target/test-fixtures");
        materialise(&source, &parent).unwrap_or_else(|e| {
            panic!(
                "unpacking {} into {}: {e}",
                source.display(),
                parent.display()
            )
        })
    })
}

fn materialise(source: &Path, parent: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(parent)?;
    let dest = parent.join("corpus");
    let stamp_file = parent.join("corpus.stamp");
    let stamp = stamp(source)?;
    let lock = fs::File::create(parent.join("corpus.lock"))?;
    match lock.lock() {
        Ok(()) => {}
        // A file system without locks: the rename below still keeps a
        // half-written mirror out of sight.
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
        Err(e) => return Err(e),
    }
    if dest.is_dir() && fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp) {
        return Ok(dest);
    }
    let _ = fs::remove_file(&stamp_file);
    let tmp = parent.join(format!("corpus.tmp-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    mirror(source, &tmp)?;
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    fs::rename(&tmp, &dest)?;
    fs::write(&stamp_file, stamp)?;
    Ok(dest)
}

/// Every file's relative path, size and modification time, sorted.
fn stamp(source: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    walk(source, &mut files)?;
    files.sort();
    let mut stamp = format!("{FORMAT}\n");
    for path in files {
        let meta = fs::metadata(&path)?;
        let modified = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let relative = path.strip_prefix(source).unwrap().display();
        stamp.push_str(&format!("{relative}\t{}\t{modified}\n", meta.len()));
    }
    Ok(stamp)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Copies `from` into `to`, decompressing `<name>.zst` into `<name>`.
fn mirror(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            mirror(&path, &to.join(&name))?;
        } else if let Some(plain) = name.strip_suffix(".zst") {
            let mut input = io::BufReader::new(fs::File::open(&path)?);
            let mut decoder = ruzstd::decoding::StreamingDecoder::new(&mut input)
                .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
            let mut output = io::BufWriter::new(fs::File::create(to.join(plain))?);
            io::copy(&mut decoder, &mut output)?;
            output.flush()?;
        } else {
            fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}
