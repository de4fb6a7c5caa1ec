//! Tool search: BM25F over a tool's name, title, integration, parameter
//! names and description.
//!
//! Written by hand: a small in-memory index ranks real catalogs well (camelCase-
//! and path-aware tokens, light stemming, field weights) and builds GitHub's
//! 1,200 tools in milliseconds; tantivy would be the heaviest dependency of
//! the build for less relevant results on these short documents.

use std::collections::HashMap;

use generator::ir::{Catalog, Tool};
use serde_json::Value;

const K1: f64 = 1.2;

/// Field weights and length normalisation: a match in the tool's own name
/// counts most; long descriptions are normalised hardest.
const FIELDS: [(Field, f64, f64); 5] = [
    (Field::Name, 3.0, 0.5),
    (Field::Title, 2.0, 0.5),
    (Field::Path, 1.0, 0.3),
    (Field::Params, 0.7, 0.75),
    (Field::Description, 1.0, 0.75),
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
    /// Term counts per field.
    fields: [HashMap<String, u32>; 5],
    lengths: [f64; 5],
}

/// An index over one catalog.
pub struct SearchIndex {
    docs: Vec<Doc>,
    paths: Vec<String>,
    /// Number of documents holding each term.
    df: HashMap<String, usize>,
    avg_lengths: [f64; 5],
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
        let mut totals = [0.0; 5];
        for tool in &catalog.tools {
            let mut fields: [HashMap<String, u32>; 5] = Default::default();
            let mut lengths = [0.0; 5];
            let mut seen = std::collections::HashSet::new();
            for (i, (field, _, _)) in FIELDS.iter().enumerate() {
                for token in tokens(&field_text(tool, *field)) {
                    lengths[i] += 1.0;
                    if seen.insert(token.clone()) {
                        *df.entry(token.clone()).or_default() += 1;
                    }
                    *fields[i].entry(token).or_default() += 1;
                }
                totals[i] += lengths[i];
            }
            docs.push(Doc { fields, lengths });
        }
        let n = docs.len().max(1) as f64;
        let avg_lengths = totals.map(|t| (t / n).max(1.0));
        SearchIndex {
            paths: catalog.tools.iter().map(|t| t.path.clone()).collect(),
            docs,
            df,
            avg_lengths,
        }
    }

    /// The best `limit` tools for `query`, best first (ties by path).
    /// BM25F: each field's term frequency is normalised by that field's
    /// length, weighted, summed, then saturated; then scaled by the share of
    /// query terms matched and by how much of the name and title the query
    /// covers.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let mut query_terms = tokens(query);
        query_terms.sort();
        query_terms.dedup();
        if query_terms.is_empty() {
            return Vec::new();
        }
        let n = self.docs.len() as f64;
        let idf: Vec<f64> = query_terms
            .iter()
            .map(|t| {
                let df = self.df.get(t).copied().unwrap_or(0) as f64;
                ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
            })
            .collect();
        let mut hits: Vec<Hit> = Vec::new();
        for (i, doc) in self.docs.iter().enumerate() {
            let mut score = 0.0;
            let mut matched = 0;
            for (term, idf) in query_terms.iter().zip(&idf) {
                let mut tf = 0.0;
                for (f, (_, weight, b)) in FIELDS.iter().enumerate() {
                    if let Some(count) = doc.fields[f].get(term) {
                        let norm = 1.0 - b + b * doc.lengths[f] / self.avg_lengths[f];
                        tf += weight * f64::from(*count) / norm;
                    }
                }
                if tf > 0.0 {
                    matched += 1;
                    score += idf * tf / (K1 + tf);
                }
            }
            if score > 0.0 {
                let coverage = matched as f64 / query_terms.len() as f64;
                // Tools whose name and title say nothing but what was asked
                // (`issues.create` for "create an issue") beat tools that
                // merely mention it (`reactions.createForIssue`).
                let precision = |f: usize| {
                    let terms = &doc.fields[f];
                    if terms.is_empty() {
                        return 0.0;
                    }
                    let hit = terms.keys().filter(|t| query_terms.contains(t)).count();
                    hit as f64 / terms.len() as f64
                };
                let focus = 1.0 + 0.6 * precision(0) + 0.4 * precision(1);
                hits.push(Hit {
                    path: self.paths[i].clone(),
                    score: score * coverage * focus,
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
