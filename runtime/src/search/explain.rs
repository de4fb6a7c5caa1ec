//! What a search explains about each hit (`executor tools search
//! --explain`, `explain=true`).

use serde::Serialize;

use super::Field;

/// Why a tool ranked where it did: the score is `text × coverage² × focus
/// × intent × verb × object × prior`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub path: String,
    pub score: f64,
    /// BM25F: each matched term's share.
    pub text: f64,
    pub terms: Vec<TermMatch>,
    /// Share of the query's words (and its intent) the tool matches.
    pub coverage: f64,
    /// How much of the tool's name and title the query covers.
    pub focus: f64,
    /// The query's intent, the tool's, and the factor they gave.
    pub query_intents: Vec<&'static str>,
    pub tool_intents: Vec<&'static str>,
    pub intent: f64,
    /// The query's leading verb is the one the tool's name is led by.
    pub verb: f64,
    /// What the query is about is what the tool's route acts on.
    pub object: f64,
    /// Canonical operations first: qualifiers, route depth, deprecation.
    pub prior: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermMatch {
    /// The query word, and the term it was looked up as.
    pub word: String,
    pub term: String,
    pub fields: Vec<Field>,
    pub score: f64,
}

/// Per query word, the term that counted (the others were outscored).
pub(super) fn best_terms(terms: Vec<TermMatch>) -> Vec<TermMatch> {
    let mut best: Vec<TermMatch> = Vec::new();
    for term in terms {
        match best.iter_mut().find(|b| b.word == term.word) {
            Some(b) if b.score < term.score => *b = term,
            Some(_) => {}
            None => best.push(term),
        }
    }
    best
}

pub(super) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
