//! Words and terms: how a tool's text and a query become the index's
//! vocabulary.
//!
//! Words are split at non-alphanumerics and at camelCase boundaries
//! (`listForRepo` → list, for, repo; `APIGroup` → api, group), HTML tags in
//! descriptions are skipped, and each word is stemmed with the Snowball
//! English stemmer (`rust-stemmers`), so `creates`, `created` and `create`
//! are one term. A few abbreviations that APIs use in names and spell out in
//! prose (`repo` and `repository`, `org` and `organization`) are folded
//! into one term.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Words that carry no meaning on their own in a query or a description.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "to", "for", "and", "or", "in", "on", "by", "with", "is", "be", "this",
    "that", "it", "as", "at", "from", "into", "its", "are", "was", "can", "will", "which", "i",
    "you", "your", "we", "our", "some", "please", "want", "need", "how", "do", "does", "so", "if",
    "there", "their", "they", "them", "these", "those", "via", "using", "p", "br", "also", "did",
    "have", "has", "had", "under", "behind", "inside", "within", "onto", "upon", "than",
];

/// Stems that mean the same thing in API names and in prose.
const FOLDS: &[(&str, &str)] = &[
    ("repositori", "repo"),
    ("organ", "org"),
    ("organis", "org"),
    ("configur", "config"),
    ("environ", "env"),
    ("authent", "auth"),
    ("msg", "messag"),
    ("specif", "spec"),
    ("applic", "app"),
    ("statist", "stat"),
    ("info", "inform"),
];

/// Lowercase words of `text`, split at non-alphanumerics and camelCase
/// boundaries, HTML tags skipped.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_owned()));
    out
}

/// [`words`] without a `String` per word: each is lent to `f` in turn.
pub fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut word = String::new();
    let mut flush = |word: &mut String| {
        if !word.is_empty() {
            f(word);
            word.clear();
        }
    };
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        // `<p>`, `</a>`, `<a href="...">`: markup, not words.
        if c == '<'
            && next.is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!')
            && let Some(end) = text[i..].find('>')
        {
            flush(&mut word);
            while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                chars.next();
            }
            prev = Some('>');
            continue;
        }
        if !c.is_alphanumeric() {
            flush(&mut word);
            prev = Some(c);
            continue;
        }
        if let Some(p) = prev
            && p.is_alphanumeric()
        {
            let next_lower = next.is_some_and(char::is_lowercase);
            let boundary = (p.is_lowercase() && c.is_uppercase())
                // `APIGroup`: the last capital of a run starts a new word.
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() != c.is_alphabetic());
            if boundary {
                flush(&mut word);
            }
        }
        word.extend(c.to_lowercase());
        prev = Some(c);
    }
    flush(&mut word);
}

/// Whether a word is left out of the index and of queries.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A word's term: its stem, folded.
pub fn term(word: &str) -> String {
    let stem = STEMMER.stem(word);
    match FOLDS.iter().find(|(from, _)| *from == stem) {
        Some((_, to)) => (*to).to_owned(),
        None => stem.into_owned(),
    }
}

#[cfg(test)]
/// The terms of `text`, stop words left out.
pub fn tokens(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| term(w))
        .collect()
}

/// Terms interned as numbers while an index is built, each word's term
/// remembered: a build stems the same few thousand words hundreds of
/// thousands of times.
#[derive(Default)]
pub struct Vocab {
    by_word: std::collections::HashMap<String, u32>,
    by_term: std::collections::HashMap<String, u32>,
    pub terms: Vec<String>,
}

impl Vocab {
    /// The terms of `text`, stop words left out, as numbers.
    pub fn tokens(&mut self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        for_each_word(text, |w| {
            if is_stop_word(w) {
                return;
            }
            let id = match self.by_word.get(w) {
                Some(&id) => id,
                None => {
                    let id = self.intern(term(w));
                    self.by_word.insert(w.to_owned(), id);
                    id
                }
            };
            out.push(id);
        });
        out
    }

    pub fn intern(&mut self, term: String) -> u32 {
        if let Some(&id) = self.by_term.get(&term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(term.clone());
        self.by_term.insert(term, id);
        id
    }
}

/// Whether a word reads as a plural noun (`pods`, `repositories`), as far
/// as its spelling tells.
pub fn is_plural(word: &str) -> bool {
    const NOT_PLURAL: &[&str] = &[
        "details",
        "status",
        "settings",
        "contents",
        "stats",
        "analytics",
        "news",
        "always",
        "is",
        "was",
        "has",
        "does",
        "its",
        "this",
        "us",
        "yes",
        "alias",
        "canvas",
        "series",
        "access",
        "address",
        "process",
        "business",
        "class",
        "progress",
        "metrics",
        "logs",
        "diagnostics",
        "kubernetes",
        "aws",
    ];
    word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
        && !NOT_PLURAL.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_camel_case_acronyms_and_markup() {
        assert_eq!(
            words("issues.listForRepo"),
            ["issues", "list", "for", "repo"]
        );
        assert_eq!(words("readAPIGroupV1"), ["read", "api", "group", "v", "1"]);
        assert_eq!(
            words("<p>Creates a <a href=\"/x\">refund</a>.</p>"),
            ["creates", "a", "refund"]
        );
        assert_eq!(words("a < b"), ["a", "b"]);
    }

    #[test]
    fn terms_are_stemmed_and_folded() {
        assert_eq!(tokens("Repositories of the user"), ["repo", "user"]);
        assert_eq!(tokens("listForRepo"), ["list", "repo"]);
        assert_eq!(tokens("created creates create"), ["creat"; 3]);
        assert_eq!(tokens("namespaced namespaces"), ["namespac"; 2]);
        assert_eq!(tokens("organizations org"), ["org"; 2]);
    }

    #[test]
    fn plurals_are_read_from_spelling() {
        assert!(is_plural("pods"));
        assert!(is_plural("repositories"));
        assert!(!is_plural("status"));
        assert!(!is_plural("details"));
        assert!(!is_plural("pod"));
    }
}
