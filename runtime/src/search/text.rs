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
    "there", "their", "they", "them", "these", "those", "via", "using", "p", "br", "also",
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
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // `<p>`, `</a>`, `<a href="...">`: markup, not words.
        if c == '<'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!')
            && let Some(end) = chars[i..].iter().position(|&c| c == '>')
        {
            flush(&mut out, &mut word);
            i += end + 1;
            continue;
        }
        if !c.is_alphanumeric() {
            flush(&mut out, &mut word);
            i += 1;
            continue;
        }
        if let Some(&p) = i.checked_sub(1).and_then(|j| chars.get(j))
            && p.is_alphanumeric()
        {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                // `APIGroup`: the last capital of a run starts a new word.
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_alphabetic() != c.is_alphabetic());
            if boundary {
                flush(&mut out, &mut word);
            }
        }
        word.extend(c.to_lowercase());
        i += 1;
    }
    flush(&mut out, &mut word);
    out
}

fn flush(out: &mut Vec<String>, word: &mut String) {
    if !word.is_empty() {
        out.push(std::mem::take(word));
    }
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

/// The terms of `text`, stop words left out.
pub fn tokens(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .filter(|w| !is_stop_word(w))
        .map(|w| term(w))
        .collect()
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
