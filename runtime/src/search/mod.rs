//! Tool search: one ranking function for `executor tools search`,
//! `GET /api/tools?q=`, MCP discovery and code mode's `tools.search`.
//!
//! BM25F over a tool's name, title, integration, route, parameter names,
//! description and group description, then three things the IR knows that
//! words do not:
//! - **intent**: what the query asks done (create, read one, list, change,
//!   delete; `query.rs`) against what the operation does (method, route,
//!   name; `intent.rs`);
//! - **object**: what the query is about ("customer" in "look up a
//!   customer by id") against what the operation's route acts on (its last
//!   fixed segment: `/v1/customers/{customer}`, not `.../tax_ids`);
//! - **coverage and focus**: how many of the query's words a tool matches,
//!   and how much of its name and title is what was asked (`issues.create`
//!   over `reactions.createForIssue` for "create an issue");
//! - **a prior for canonical operations**: a tool with a qualifier nobody
//!   asked for (`ForAllNamespaces`), a deeper route or a deprecation ranks
//!   below its plain sibling.
//!
//! Every factor is reported by [`SearchIndex::explain`], so a ranking can
//! be read back (`executor tools search --explain`).
//!
//! Written by hand: a small in-memory index ranks these short documents
//! well, builds 15,000 tools in a fraction of a second and answers in well
//! under a millisecond; tantivy would be the heaviest dependency of the
//! build, and its scoring knows nothing of intents or routes.

mod explain;
mod fields;
mod intent;
mod lexicon;
mod query;
mod text;

use std::collections::HashMap;

use generator::ir::{Catalog, SchemaText};

pub use explain::{Explanation, TermMatch};
use explain::{best_terms, round};
pub use fields::Field;
use fields::{FIELD_COUNT, FIELDS, field_text, is_generic_title_word, prior};
pub use intent::{Intent, Intents};

const K1: f64 = 1.2;

/// The factor for a tool that acts on what the query is about (1.1 and
/// 1.3 scored the same or lower on the labelled set worked on).
const OBJECT: f64 = 1.2;

/// The factor for a tool that reads the signed-in identity, when the
/// query asks who that is.
const WHOAMI: f64 = 1.5;

/// Query words scored apart; later ones share the last slot.
const MAX_SOURCES: usize = 16;

/// One tool's occurrences of one term, per field.
struct Posting {
    doc: u32,
    counts: [u16; FIELD_COUNT],
}

/// What the index keeps of one tool besides its postings.
struct Doc {
    path: String,
    integration: String,
    lengths: [f32; FIELD_COUNT],
    /// Distinct terms in its name and in its title.
    distinct: [u16; 2],
    intents: Intents,
    /// The verb its name is led by (or ends with), as a term.
    verb: Option<String>,
    /// The prior for canonical operations, without the query.
    prior: f64,
    /// Its name says "all" (`listCoreV1PodForAllNamespaces`).
    all_qualifier: bool,
    /// What it acts on, as terms (its route's last fixed segment).
    resource: Vec<String>,
    /// It reads the signed-in identity (`GET /user`).
    reads_self: bool,
}

/// An index over one catalog: an inverted index from term to the tools
/// holding it, so a query touches only the tools that match it.
pub struct SearchIndex {
    postings: HashMap<String, Vec<Posting>>,
    docs: Vec<Doc>,
    avg_lengths: [f64; FIELD_COUNT],
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub path: String,
    pub score: f64,
}

/// What a tool's score is made of.
struct Factors {
    score: f64,
    text: f64,
    coverage: f64,
    focus: f64,
    intent: f64,
    verb: f64,
    object: f64,
    prior: f64,
}

/// A document's running total while a query is scored.
#[derive(Default)]
struct Acc {
    /// Per query word, its best term's share: a word looked up as several
    /// terms ("my" → auth, current, me) counts once.
    best: [f32; MAX_SOURCES],
    /// Bit per query source matched.
    sources: u64,
    name_hits: u16,
    title_hits: u16,
    terms: Vec<TermMatch>,
}

impl SearchIndex {
    pub fn build(catalog: &Catalog<SchemaText>) -> SearchIndex {
        let n = catalog.tools.len();
        let shared = fields::Shared::new(catalog);
        let mut vocab = text::Vocab::default();
        let mut pairs: HashMap<(u32, u32), u32> = HashMap::new();
        // Per term (by number), the tools holding it.
        let mut by_term: Vec<Vec<Posting>> = Vec::new();
        let mut docs = Vec::with_capacity(n);
        let mut totals = [0.0; FIELD_COUNT];
        let mut counts: HashMap<u32, [u16; FIELD_COUNT]> = HashMap::new();
        // Text many tools share is read into terms once.
        let mut integration_terms: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut group_terms: HashMap<(&str, &str), Vec<u32>> = HashMap::new();
        for (doc, tool) in catalog.tools.iter().enumerate() {
            counts.clear();
            let mut lengths = [0.0f32; FIELD_COUNT];
            let name = vocab.tokens(&field_text(tool, Field::Name, &shared));
            let title = vocab.tokens(&field_text(tool, Field::Title, &shared));
            for (f, (field, _, _)) in FIELDS.iter().enumerate() {
                let terms = match field {
                    Field::Name => name.clone(),
                    Field::Title => title.clone(),
                    Field::Phrase => name
                        .windows(2)
                        .chain(title.windows(2))
                        .map(|w| {
                            *pairs.entry((w[0], w[1])).or_insert_with(|| {
                                let term = format!(
                                    "{} {}",
                                    vocab.terms[w[0] as usize], vocab.terms[w[1] as usize]
                                );
                                vocab.intern(term)
                            })
                        })
                        .collect(),
                    // One integration's words are every one of its tools'.
                    Field::Integration => match integration_terms.get(tool.integration.as_str()) {
                        Some(terms) => terms.clone(),
                        None => {
                            let terms = vocab.tokens(&field_text(tool, *field, &shared));
                            integration_terms.insert(&tool.integration, terms.clone());
                            terms
                        }
                    },
                    Field::Group => match fields::group(tool) {
                        None => Vec::new(),
                        Some(group) => group_terms
                            .entry((tool.integration.as_str(), group))
                            .or_insert_with(|| vocab.tokens(&field_text(tool, *field, &shared)))
                            .clone(),
                    },
                    _ => vocab.tokens(&field_text(tool, *field, &shared)),
                };
                for id in terms {
                    if *field == Field::Integration
                        && is_generic_title_word(&vocab.terms[id as usize])
                    {
                        continue;
                    }
                    lengths[f] += 1.0;
                    let entry = counts.entry(id).or_default();
                    entry[f] = entry[f].saturating_add(1);
                }
                totals[f] += f64::from(lengths[f]);
            }
            for (&id, &counts) in &counts {
                let id = id as usize;
                if by_term.len() <= id {
                    by_term.resize_with(vocab.terms.len().max(id + 1), Vec::new);
                }
                by_term[id].push(Posting {
                    doc: doc as u32,
                    counts,
                });
            }
            let distinct = |ids: &[u32]| {
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                ids.len() as u16
            };
            let verb = intent::name_verb(tool);
            docs.push(Doc {
                path: tool.path.clone(),
                integration: tool.integration.clone(),
                lengths,
                distinct: [distinct(&name), distinct(&title)],
                intents: intent::of_tool(tool, verb.as_deref()),
                verb: verb.map(|v| text::term(&v)),
                prior: prior(tool),
                all_qualifier: name.iter().any(|&id| vocab.terms[id as usize] == "all"),
                resource: intent::resource(tool),
                reads_self: intent::reads_self(tool),
            });
        }
        let postings: HashMap<String, Vec<Posting>> = vocab
            .terms
            .into_iter()
            .zip(by_term.into_iter().chain(std::iter::repeat_with(Vec::new)))
            .filter(|(_, list)| !list.is_empty())
            .map(|(term, mut list)| {
                list.shrink_to_fit();
                (term, list)
            })
            .collect();
        let count = n.max(1) as f64;
        SearchIndex {
            postings,
            docs,
            avg_lengths: totals.map(|t| (t / count).max(1.0)),
        }
    }

    /// The best `limit` tools for `query`, best first (ties by path),
    /// optionally only `integration`'s.
    pub fn search(&self, query: &str, integration: Option<&str>, limit: usize) -> Vec<Hit> {
        self.search_within(query, integration, &|_| true, limit)
    }

    /// [`search`](Self::search) over the tools `keep` allows (by their
    /// place in the catalog the index was built from): a client's scope.
    pub fn search_within(
        &self,
        query: &str,
        integration: Option<&str>,
        keep: &dyn Fn(usize) -> bool,
        limit: usize,
    ) -> Vec<Hit> {
        self.rank(query, integration, keep, limit, false)
            .into_iter()
            .map(|(hit, _)| hit)
            .collect()
    }

    /// The same ranking as [`search`](Self::search), each hit with why.
    pub fn explain(
        &self,
        query: &str,
        integration: Option<&str>,
        limit: usize,
    ) -> Vec<Explanation> {
        self.rank(query, integration, &|_| true, limit, true)
            .into_iter()
            .filter_map(|(_, why)| why)
            .collect()
    }

    fn rank(
        &self,
        query: &str,
        integration: Option<&str>,
        keep: &dyn Fn(usize) -> bool,
        limit: usize,
        explain: bool,
    ) -> Vec<(Hit, Option<Explanation>)> {
        let mut analysis = query::analyze(query);
        query::join_pairs(&mut analysis, |term| self.postings.contains_key(term));
        query::add_phrases(&mut analysis);
        if analysis.terms.is_empty() || self.docs.is_empty() {
            return Vec::new();
        }
        let n = self.docs.len() as f64;
        // Matched tools' running totals: `slots` maps a tool to its entry
        // (cheaper than hashing every posting's tool).
        let mut slots = vec![u32::MAX; self.docs.len()];
        // Per tool, whether `keep` allows it: unknown (0), yes (1), no (2).
        let mut kept = vec![0u8; self.docs.len()];
        let mut accs: Vec<(u32, Acc)> = Vec::new();
        for qt in &analysis.terms {
            let Some(list) = self.postings.get(&qt.term) else {
                continue;
            };
            let df = list.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for posting in list {
                let doc = &self.docs[posting.doc as usize];
                if integration.is_some_and(|i| doc.integration != i) {
                    continue;
                }
                let at = posting.doc as usize;
                if kept[at] == 0 {
                    kept[at] = if keep(at) { 1 } else { 2 };
                }
                if kept[at] == 2 {
                    continue;
                }
                let lengths = &doc.lengths;
                let mut tf = 0.0;
                for (f, (field, weight, b)) in FIELDS.iter().enumerate() {
                    let count = posting.counts[f];
                    // Expansions ("my" → current) mean something in a
                    // tool's name, not anywhere in its description.
                    let strong = matches!(field, Field::Name | Field::Title | Field::Route);
                    if count > 0 && (strong || !qt.names_only) {
                        let norm = 1.0 - b + b * f64::from(lengths[f]) / self.avg_lengths[f];
                        tf += weight * f64::from(count) / norm;
                    }
                }
                if tf == 0.0 {
                    continue;
                }
                let share = qt.weight * idf * tf / (K1 + tf);
                let slot = &mut slots[posting.doc as usize];
                if *slot == u32::MAX {
                    *slot = accs.len() as u32;
                    accs.push((posting.doc, Acc::default()));
                }
                let entry = &mut accs[*slot as usize].1;
                let best = &mut entry.best[qt.source.min(MAX_SOURCES - 1)];
                *best = best.max(share as f32);
                entry.sources |= 1 << qt.source.min(63);
                entry.name_hits += u16::from(posting.counts[0] > 0);
                entry.title_hits += u16::from(posting.counts[1] > 0);
                if explain {
                    entry.terms.push(TermMatch {
                        word: analysis.sources[qt.source].word.clone(),
                        term: qt.term.clone(),
                        fields: FIELDS
                            .iter()
                            .zip(posting.counts)
                            .filter(|(_, c)| *c > 0)
                            .map(|((f, _, _), _)| *f)
                            .collect(),
                        score: round(share),
                    });
                }
            }
        }
        // Scores first; paths and reasons only for the tools that make it.
        let mut ranked: Vec<(f64, usize)> = accs
            .iter()
            .enumerate()
            .map(|(i, (doc, acc))| (self.factors(*doc, acc, &analysis).score, i))
            .collect();
        let path = |i: usize| self.docs[accs[i].0 as usize].path.as_str();
        let by_rank = |a: &(f64, usize), b: &(f64, usize)| {
            b.0.total_cmp(&a.0).then_with(|| path(a.1).cmp(path(b.1)))
        };
        if ranked.len() > limit {
            ranked.select_nth_unstable_by(limit, by_rank);
            ranked.truncate(limit);
        }
        ranked.sort_by(by_rank);
        ranked
            .into_iter()
            .map(|(score, i)| {
                let (doc, acc) = &mut accs[i];
                let hit = Hit {
                    path: self.docs[*doc as usize].path.clone(),
                    score,
                };
                let why = explain.then(|| {
                    let f = self.factors(*doc, acc, &analysis);
                    Explanation {
                        path: hit.path.clone(),
                        score: round(f.score),
                        text: round(f.text),
                        terms: best_terms(std::mem::take(&mut acc.terms)),
                        coverage: round(f.coverage),
                        focus: round(f.focus),
                        query_intents: analysis.intent.names(),
                        tool_intents: self.docs[*doc as usize].intents.names(),
                        intent: f.intent,
                        verb: f.verb,
                        object: f.object,
                        prior: round(f.prior),
                    }
                });
                (hit, why)
            })
            .collect()
    }

    /// One tool's score and its factors, from its matches.
    fn factors(&self, doc: u32, acc: &Acc, analysis: &query::Analysis) -> Factors {
        let d = &self.docs[doc as usize];
        // A tool named after the query's own verb (`containerStart` for
        // "start a container") does what was asked, unless its route says
        // otherwise (OpenAI's `getRun` reads a run; it does not run one).
        let verb_named = matches!((&analysis.verb, &d.verb), (Some(a), Some(b)) if a == b);
        let intent_matched =
            analysis.intent.meets(d.intents) || (verb_named && d.intents.is_empty());
        // Coverage: the query's required words the tool matched, and its
        // intent, met by the operation or by a word of the verb itself.
        let mut wanted = 0u32;
        let mut met = 0u32;
        for (i, source) in analysis.sources.iter().enumerate() {
            if source.required {
                wanted += 1;
                met += u32::from(acc.sources & (1 << i.min(63)) != 0);
            }
        }
        if !analysis.intent.is_empty() {
            wanted += 1;
            let verb_matched = analysis
                .intent_source
                .is_some_and(|i| acc.sources & (1 << i.min(63)) != 0);
            met += u32::from(intent_matched || verb_matched);
        }
        let coverage = if wanted == 0 {
            1.0
        } else {
            f64::from(met) / f64::from(wanted)
        };
        let [name_len, title_len] = d.distinct;
        let share = |hits: u16, len: u16| {
            if len == 0 {
                0.0
            } else {
                (f64::from(hits) / f64::from(len)).min(1.0)
            }
        };
        // The name's verb is what the query asked for when the intents agree.
        let name_hits = acc.name_hits + u16::from(intent_matched);
        let focus = 1.0 + 0.6 * share(name_hits, name_len) + 0.4 * share(acc.title_hits, title_len);
        let intent = if analysis.intent.is_empty() {
            1.0
        } else if intent_matched {
            1.3
        } else if !d.intents.is_empty() {
            0.75
        } else {
            0.9
        };
        let verb = if verb_named { 1.25 } else { 1.0 };
        // What the query is about is what the operation acts on, not a
        // parent in its route (`repos.listCommits` for "commits on a
        // branch", not `listBranchesForHeadCommit`).
        let object = analysis
            .terms
            .iter()
            .any(|t| analysis.object.contains(&t.source) && d.resource.contains(&t.term));
        let object = if object { OBJECT } else { 1.0 };
        let mut prior = d.prior;
        // "Who am I": the route that reads the person, over tools that
        // merely mention a profile.
        if analysis.whoami && d.reads_self {
            prior *= WHOAMI;
        }
        if d.all_qualifier && !analysis.wants_all {
            prior *= 0.8;
        }
        let text: f64 = acc.best.iter().map(|&b| f64::from(b)).sum();
        Factors {
            score: text * coverage * coverage * focus * intent * verb * object * prior,
            text,
            coverage,
            focus,
            intent,
            verb,
            object,
            prior,
        }
    }
}
