//! Tool search: BM25F over a tool's name, title, integration, parameter
//! names and description.
//!
//! Written by hand: a small in-memory index ranks real catalogs well (camelCase-
//! and path-aware tokens, light stemming, field weights) and builds GitHub's
//! 1,200 tools in milliseconds; tantivy would be the heaviest dependency of
//! the build for less relevant results on these short documents.

use std::collections::HashMap;

use generator::ir::{Catalog, SchemaText, Tool};

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

/// One tool's occurrences of one term, per field.
struct Posting {
    doc: u32,
    counts: [u16; 5],
}

/// An index over one catalog: an inverted index from term to the tools
/// holding it, so a query touches only the tools that match it.
pub struct SearchIndex {
    postings: HashMap<String, Vec<Posting>>,
    paths: Vec<String>,
    /// Per tool and field: length in terms.
    lengths: Vec<[f32; 5]>,
    /// Per tool: distinct terms in its name and in its title.
    distinct: Vec<[u16; 2]>,
    avg_lengths: [f64; 5],
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub path: String,
    pub score: f64,
}

impl SearchIndex {
    pub fn build(catalog: &Catalog<SchemaText>) -> SearchIndex {
        let n = catalog.tools.len();
        let mut postings: HashMap<String, Vec<Posting>> = HashMap::new();
        let mut lengths = Vec::with_capacity(n);
        let mut distinct = Vec::with_capacity(n);
        let mut totals = [0.0; 5];
        for (doc, tool) in catalog.tools.iter().enumerate() {
            let mut counts: HashMap<String, [u16; 5]> = HashMap::new();
            let mut doc_lengths = [0.0f32; 5];
            let mut doc_distinct = [0u16; 2];
            for (f, (field, _, _)) in FIELDS.iter().enumerate() {
                let mut seen = std::collections::HashSet::new();
                for token in tokens(&field_text(tool, *field)) {
                    doc_lengths[f] += 1.0;
                    let entry = counts.entry(token.clone()).or_default();
                    entry[f] = entry[f].saturating_add(1);
                    seen.insert(token);
                }
                if f < 2 {
                    doc_distinct[f] = seen.len() as u16;
                }
                totals[f] += f64::from(doc_lengths[f]);
            }
            for (term, counts) in counts {
                postings.entry(term).or_default().push(Posting {
                    doc: doc as u32,
                    counts,
                });
            }
            lengths.push(doc_lengths);
            distinct.push(doc_distinct);
        }
        let docs = n.max(1) as f64;
        SearchIndex {
            postings,
            paths: catalog.tools.iter().map(|t| t.path.clone()).collect(),
            lengths,
            distinct,
            avg_lengths: totals.map(|t| (t / docs).max(1.0)),
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
        if query_terms.is_empty() || self.paths.is_empty() {
            return Vec::new();
        }
        let n = self.paths.len() as f64;
        // doc -> (score, terms matched, name terms hit, title terms hit)
        let mut acc: HashMap<u32, (f64, u16, u16, u16)> = HashMap::new();
        for term in &query_terms {
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let df = list.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for posting in list {
                let lengths = &self.lengths[posting.doc as usize];
                let mut tf = 0.0;
                for (f, (_, weight, b)) in FIELDS.iter().enumerate() {
                    let count = posting.counts[f];
                    if count > 0 {
                        let norm = 1.0 - b + b * f64::from(lengths[f]) / self.avg_lengths[f];
                        tf += weight * f64::from(count) / norm;
                    }
                }
                let entry = acc.entry(posting.doc).or_default();
                entry.0 += idf * tf / (K1 + tf);
                entry.1 += 1;
                entry.2 += u16::from(posting.counts[0] > 0);
                entry.3 += u16::from(posting.counts[1] > 0);
            }
        }
        let mut hits: Vec<Hit> = acc
            .into_iter()
            .map(|(doc, (score, matched, name_hits, title_hits))| {
                let coverage = f64::from(matched) / query_terms.len() as f64;
                // Tools whose name and title say nothing but what was asked
                // (`issues.create` for "create an issue") beat tools that
                // merely mention it (`reactions.createForIssue`).
                let [name_len, title_len] = self.distinct[doc as usize];
                let share = |hits: u16, len: u16| {
                    if len == 0 {
                        0.0
                    } else {
                        f64::from(hits) / f64::from(len)
                    }
                };
                let focus =
                    1.0 + 0.6 * share(name_hits, name_len) + 0.4 * share(title_hits, title_len);
                Hit {
                    path: self.paths[doc as usize].clone(),
                    score: score * coverage * focus,
                }
            })
            .collect();
        let by_rank = |a: &Hit, b: &Hit| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.path.cmp(&b.path))
        };
        if hits.len() > limit {
            hits.select_nth_unstable_by(limit, by_rank);
            hits.truncate(limit);
        }
        hits.sort_by(by_rank);
        hits
    }
}

fn field_text(tool: &Tool<SchemaText>, field: Field) -> String {
    match field {
        Field::Name => tool.name.clone(),
        Field::Title => tool.title.clone().unwrap_or_default(),
        Field::Path => tool.integration.clone(),
        Field::Description => tool.description.clone().unwrap_or_default(),
        Field::Params => {
            // Only the top-level property names, read from the schema's
            // text without building its tree.
            #[derive(serde::Deserialize)]
            struct Properties {
                #[serde(default)]
                properties: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
            }
            serde_json::from_str::<Properties>(tool.input.text())
                .map(|p| p.properties.into_keys().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        }
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
