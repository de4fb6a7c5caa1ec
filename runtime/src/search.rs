//! Tool search: BM25F over a tool's path, name, title, description and
//! parameter names.
//!
//! Written by hand: a small in-memory index ranks real catalogs well (camelCase-
//! and path-aware tokens, light stemming, field weights) and builds GitHub's
//! 1,200 tools in milliseconds; tantivy would be the heaviest dependency of
//! the build for less relevant results on these short documents.

use std::collections::HashMap;

use generator::ir::{Catalog, Tool};
use serde_json::Value;

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Field weights: a match in the tool's own name counts most.
const FIELDS: [(Field, f64); 5] = [
    (Field::Name, 3.0),
    (Field::Title, 2.0),
    (Field::Path, 1.5),
    (Field::Params, 1.0),
    (Field::Description, 1.0),
];

#[derive(Clone, Copy)]
enum Field {
    Name,
    Title,
    Path,
    Params,
    Description,
}

struct Doc {
    /// Weighted term frequencies.
    terms: HashMap<String, f64>,
    /// Weighted length.
    length: f64,
}

/// An index over one catalog.
pub struct SearchIndex {
    docs: Vec<Doc>,
    paths: Vec<String>,
    /// Number of documents holding each term.
    df: HashMap<String, usize>,
    avg_length: f64,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub path: String,
    pub score: f64,
}

impl SearchIndex {
    pub fn build(catalog: &Catalog) -> SearchIndex {
        let mut docs = Vec::with_capacity(catalog.tools.len());
        let mut df: HashMap<String, usize> = HashMap::new();
        for tool in &catalog.tools {
            let mut terms: HashMap<String, f64> = HashMap::new();
            let mut length = 0.0;
            for (field, weight) in FIELDS {
                for token in tokens(&field_text(tool, field)) {
                    *terms.entry(token).or_default() += weight;
                    length += weight;
                }
            }
            for term in terms.keys() {
                *df.entry(term.clone()).or_default() += 1;
            }
            docs.push(Doc { terms, length });
        }
        let avg_length = if docs.is_empty() {
            1.0
        } else {
            docs.iter().map(|d| d.length).sum::<f64>() / docs.len() as f64
        };
        SearchIndex {
            paths: catalog.tools.iter().map(|t| t.path.clone()).collect(),
            docs,
            df,
            avg_length,
        }
    }

    /// The best `limit` tools for `query`, best first (ties by path).
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let mut query_terms = tokens(query);
        query_terms.sort();
        query_terms.dedup();
        let n = self.docs.len() as f64;
        let mut hits: Vec<Hit> = Vec::new();
        for (i, doc) in self.docs.iter().enumerate() {
            let mut score = 0.0;
            for term in &query_terms {
                let Some(tf) = doc.terms.get(term) else {
                    continue;
                };
                let df = self.df.get(term).copied().unwrap_or(0) as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                let norm = K1 * (1.0 - B + B * doc.length / self.avg_length);
                score += idf * tf * (K1 + 1.0) / (tf + norm);
            }
            if score > 0.0 {
                hits.push(Hit {
                    path: self.paths[i].clone(),
                    score,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.path.cmp(&b.path))
        });
        hits.truncate(limit);
        hits
    }
}

fn field_text(tool: &Tool, field: Field) -> String {
    match field {
        Field::Name => tool.name.clone(),
        Field::Title => tool.title.clone().unwrap_or_default(),
        Field::Path => tool.integration.clone(),
        Field::Description => tool.description.clone().unwrap_or_default(),
        Field::Params => match tool.input.get("properties") {
            Some(Value::Object(props)) => props.keys().cloned().collect::<Vec<_>>().join(" "),
            _ => String::new(),
        },
    }
}

/// Lowercase terms: words split at non-alphanumerics and camelCase
/// boundaries (`listForRepo` → list, for, repo), stop words dropped, light
/// stemming (`emails` → email, `repositories` → repository).
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        let boundary = match prev {
            Some(p) => {
                !c.is_alphanumeric()
                    || (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() != c.is_alphabetic()
                        && c.is_alphanumeric()
                        && p.is_alphanumeric())
            }
            None => !c.is_alphanumeric(),
        };
        if boundary && !word.is_empty() {
            push_term(&mut out, &word);
            word.clear();
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        prev = Some(c);
    }
    if !word.is_empty() {
        push_term(&mut out, &word);
    }
    out
}

const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "to", "for", "and", "or", "in", "on", "by", "with", "is", "be", "this",
    "that", "it", "as", "at", "from",
];

fn push_term(out: &mut Vec<String>, word: &str) {
    if STOP_WORDS.contains(&word) {
        return;
    }
    out.push(stem(word));
}

fn stem(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..n - 3]);
    }
    if n > 4
        && (word.ends_with("sses")
            || word.ends_with("shes")
            || word.ends_with("ches")
            || word.ends_with("xes"))
    {
        return word[..n - 2].to_owned();
    }
    if n > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..n - 1].to_owned();
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_camel_case_paths_and_plurals() {
        assert_eq!(tokens("issues.listForRepo"), ["issue", "list", "repo"]);
        assert_eq!(tokens("send_emails"), ["send", "email"]);
        assert_eq!(tokens("Repositories of the user"), ["repository", "user"]);
        assert_eq!(tokens("getV2Status"), ["get", "v", "2", "status"]);
        assert_eq!(tokens("addresses"), ["address"]);
    }
}
