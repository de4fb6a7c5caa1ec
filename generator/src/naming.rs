//! Names derived from source text: tool segments and stable suffixes.

/// MCP's tool name rule: `[A-Za-z0-9_.-]{1,128}`.
pub const MAX_TOOL_PATH: usize = 128;

/// Whether a name may be an integration namespace (one path segment).
pub fn is_valid_namespace(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Joins words in lower camel case: `list_for-repo` and `ListForRepo` both
/// give `listForRepo`; an upper-case run keeps one capital (`HTTPServer`
/// gives `httpServer`). Characters outside `[A-Za-z0-9]` separate words.
pub fn camel_case(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        let word = if i == 0 {
            lower_first_run(word)
        } else {
            upper_first(word)
        };
        out.push_str(&word);
    }
    out
}

fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `URL` → `url`, `HTTPServer` → `httpServer`, `GetX` → `getX`.
fn lower_first_run(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lower_until = if run == chars.len() || run <= 1 {
        run.max(1)
    } else if chars[run].is_ascii_lowercase() {
        run - 1
    } else {
        run
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_until {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// A hash that never changes between builds or platforms (64-bit FNV-1a;
/// std's hashers make no such promise), for names and versions that must
/// stay put when a spec changes elsewhere. Written by hand: it is ten lines,
/// and it also serves as an `io::Write` sink for streamed serialisation.
#[derive(Debug, Clone)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl StableHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Sixteen lowercase hex digits.
    pub fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl std::io::Write for StableHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// [`StableHasher`] over one string.
pub fn stable_hash(text: &str) -> String {
    let mut hasher = StableHasher::default();
    hasher.update(text.as_bytes());
    hasher.finish()
}

/// Keeps `[A-Za-z0-9_.-]`, replacing anything else with `_`, and collapses
/// empty dotted segments.
pub fn sanitise_tool_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned
        .split('.')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_examples() {
        assert_eq!(camel_case("list-for-repo"), "listForRepo");
        assert_eq!(camel_case("list_pets"), "listPets");
        assert_eq!(camel_case("listPets"), "listPets");
        assert_eq!(camel_case("GetAccounts"), "getAccounts");
        assert_eq!(camel_case("HTTPServer"), "httpServer");
        assert_eq!(camel_case("URL"), "url");
        assert_eq!(camel_case("Pet Store"), "petStore");
        assert_eq!(camel_case("  "), "");
    }

    #[test]
    fn stable_hash_is_fixed() {
        // Pinned: tool names depend on it.
        assert_eq!(stable_hash(""), "cbf29ce484222325");
        assert_eq!(stable_hash("GET /pets"), stable_hash("GET /pets"));
        assert_ne!(stable_hash("GET /pets"), stable_hash("GET /pet"));
    }

    #[test]
    fn namespaces_and_sanitising() {
        assert!(is_valid_namespace("github"));
        assert!(is_valid_namespace("my_api-2"));
        assert!(!is_valid_namespace("a.b"));
        assert!(!is_valid_namespace(""));
        assert_eq!(sanitise_tool_name("a..b/c"), "a.b_c");
    }
}
