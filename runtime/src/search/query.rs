//! Reading a query: which words must match, which only help, and what the
//! person wants done.
//!
//! "open an issue", "make a new customer", "get rid of a webhook", "who am
//! I", "which repositories do I own": the leading verb (or question) names
//! an intent, matched against each tool's (see `intent.rs`) rather than
//! against its words, since APIs name the same act `create`, `post`, `add`
//! or nothing at all. A verb that reads one thing or many ("show", "get",
//! "find") lists when its object is plural. Words of the person themself
//! ("my", "mine", "I own") look for the authenticated user's operations
//! without demanding them. Written by hand: the lexicon is small, and no
//! crate knows what API operations are called.

use super::intent::{Intent, Intents};
use super::lexicon::{
    DETERMINERS, FILLERS, NOISE, PHRASES, SELF_TERMS, expansion, is_optional, verb,
    verb_is_only_intent,
};
use super::text;

/// One term to look up.
#[derive(Debug, Clone)]
pub struct QueryTerm {
    pub term: String,
    /// How much a match counts (expansions count less than the words typed).
    pub weight: f64,
    /// The query word it stands for (an index into `Analysis::sources`).
    pub source: usize,
    /// Counts only in a tool's name, title and route.
    pub names_only: bool,
}

/// One word of the query that matching is measured against.
#[derive(Debug, Clone)]
pub struct Source {
    pub word: String,
    /// Whether a tool that matches none of its terms covers less of the
    /// query (content words) or not (words that only help: "my", an id).
    pub required: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub sources: Vec<Source>,
    pub terms: Vec<QueryTerm>,
    pub intent: Intents,
    /// The leading verb as a term, when the query leads with one: a tool
    /// whose name is that verb's (`containerStart` for "start a
    /// container") is what the person means.
    pub verb: Option<String>,
    /// The source that named the intent, if a word did.
    pub intent_source: Option<usize>,
    /// The query asks for all of something ("all", "every", "across").
    pub wants_all: bool,
    /// The first run of words that must match, after the verb: what the
    /// query is about ("customer" in "look up a customer by id", "payment
    /// intent" in "capture a payment intent").
    pub object: Vec<usize>,
    /// The query asks who the signed-in person is ("who am I").
    pub whoami: bool,
}

/// Reads a query.
pub fn analyze(query: &str) -> Analysis {
    let mut words: Vec<String> = text::words(query)
        .into_iter()
        // A lone letter is the tail of an apostrophe (`run's`), not a word.
        .filter(|w| w.len() > 1 || w == "i" || w == "a" || w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    for (phrase, replacement) in PHRASES {
        let phrase: Vec<&str> = phrase.split(' ').collect();
        if let Some(at) = words
            .windows(phrase.len())
            .position(|w| w.iter().zip(&phrase).all(|(a, b)| a == b))
        {
            words.splice(
                at..at + phrase.len(),
                replacement.split(' ').map(str::to_owned),
            );
        }
    }
    let mut analysis = Analysis {
        whoami: words.iter().any(|w| w == "whoami"),
        wants_all: words
            .iter()
            .any(|w| matches!(w.as_str(), "all" | "every" | "across" | "everywhere")),
        ..Analysis::default()
    };
    // The leading verb or question, after fillers.
    let lead_at = words.iter().position(|w| !FILLERS.contains(&w.as_str()));
    let lead = lead_at.map(|at| words[at].as_str());
    let lead_intents = lead.and_then(verb);
    // A word the lexicon does not know, leading and followed by an object,
    // is a verb all the same ("scale a deployment").
    let unknown_verb = lead_intents.is_none()
        && lead_at.is_some_and(|at| {
            words
                .get(at + 1)
                .is_some_and(|next| DETERMINERS.contains(&next.as_str()))
        });
    let is_verb = lead_intents.is_some() || unknown_verb;
    // The object's number decides for verbs that read one or many, and for
    // queries with no verb at all.
    let plural = analysis.wants_all
        || words.iter().enumerate().any(|(i, w)| {
            (Some(i) != lead_at || !is_verb) && !text::is_stop_word(w) && text::is_plural(w)
        });
    analysis.intent = match lead_intents {
        Some([]) if plural => Intents::of(&[Intent::List]),
        Some([]) => Intents::of(&[Intent::Get]),
        Some(intents) => Intents::of(intents),
        None if plural && !unknown_verb => Intents::of(&[Intent::List]),
        None => Intents::NONE,
    };
    // Where the object's run of words would go on.
    let mut object_ends = None;
    for (i, word) in words.iter().enumerate() {
        let word = word.as_str();
        if Some(i) == lead_at && is_verb {
            let source = push_source(&mut analysis, word, false);
            if !analysis.intent.is_empty() {
                analysis.intent_source = Some(source);
            }
            if let Some(terms) = expansion(word) {
                for term in terms {
                    push_term(&mut analysis, (*term).to_owned(), 0.6, source);
                }
            }
            if !verb_is_only_intent(word) {
                let term = text::term(word);
                analysis.verb = Some(term.clone());
                // An unknown verb is the query's main word; a known one
                // also names the intent, which matches without it.
                let weight = if unknown_verb { 1.0 } else { 0.6 };
                analysis.sources[source].required = unknown_verb;
                push_term(&mut analysis, term, weight, source);
            }
            continue;
        }
        if lead_at.is_some_and(|at| i < at) || text::is_stop_word(word) || NOISE.contains(&word) {
            continue;
        }
        // "show me ...": the person is the listener, not the object.
        if is_verb && Some(i) == lead_at.map(|a| a + 1) && word == "me" {
            continue;
        }
        if matches!(word, "my" | "mine" | "myself" | "me" | "own" | "whoami") {
            let source = push_source(&mut analysis, word, false);
            for term in SELF_TERMS {
                push_term(&mut analysis, (*term).to_owned(), 0.5, source);
            }
            names_only(&mut analysis, source);
            continue;
        }
        if matches!(word, "all" | "every" | "across" | "everywhere") {
            let source = push_source(&mut analysis, word, false);
            push_term(&mut analysis, "all".to_owned(), 0.5, source);
            names_only(&mut analysis, source);
            continue;
        }
        if matches!(
            word,
            "what" | "whats" | "who" | "which" | "new" | "am" | "many" | "much"
        ) {
            continue;
        }
        let optional = is_optional(word);
        let source = push_source(&mut analysis, word, !optional);
        if !optional && (analysis.object.is_empty() || object_ends == Some(i)) {
            analysis.object.push(source);
            object_ends = Some(i + 1);
        }
        let weight = if optional { 0.3 } else { 1.0 };
        match expansion(word) {
            Some(terms) => {
                for term in terms {
                    push_term(&mut analysis, (*term).to_owned(), weight, source);
                }
            }
            None => push_term(&mut analysis, text::term(word), weight, source),
        }
    }
    analysis
}

/// The terms of `source` count only in names, titles and routes.
fn names_only(analysis: &mut Analysis, source: usize) {
    for term in analysis.terms.iter_mut().filter(|t| t.source == source) {
        term.names_only = true;
    }
}

fn push_source(analysis: &mut Analysis, word: &str, required: bool) -> usize {
    analysis.sources.push(Source {
        word: word.to_owned(),
        required,
    });
    analysis.sources.len() - 1
}

fn push_term(analysis: &mut Analysis, term: String, weight: f64, source: usize) {
    // A term typed twice counts once, at its best weight.
    if let Some(existing) = analysis.terms.iter_mut().find(|t| t.term == term) {
        if weight > existing.weight {
            existing.weight = weight;
            existing.source = source;
        }
        return;
    }
    analysis.terms.push(QueryTerm {
        term,
        weight,
        source,
        names_only: false,
    });
}

/// Adjacent words that an API writes as one (`pay out` → payout, `check
/// out` → checkout): when the index knows the joined word and the query
/// has both halves, the pair is looked up as one word too.
pub fn join_pairs(analysis: &mut Analysis, known: impl Fn(&str) -> bool) {
    let words: Vec<(usize, String)> = analysis
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.word.clone()))
        .collect();
    for pair in words.windows(2) {
        let joined = text::term(&format!("{}{}", pair[0].1, pair[1].1));
        if known(&joined) {
            let (first, second) = (pair[0].0, pair[1].0);
            push_term(analysis, joined, 1.0, first);
            // The joined word is demanded (through the first half's
            // source); the second half alone no longer is.
            analysis.sources[first].required = true;
            analysis.sources[second].required = false;
        }
    }
}

/// Each pair of required words side by side, as one more term that only
/// tools saying them together match (a bonus, never demanded).
pub fn add_phrases(analysis: &mut Analysis) {
    let words: Vec<String> = analysis
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.required)
        .filter_map(|(i, _)| {
            analysis
                .terms
                .iter()
                .find(|t| t.source == i && t.weight >= 1.0)
                .map(|t| t.term.clone())
        })
        .collect();
    for pair in words.windows(2) {
        let source = push_source(analysis, &format!("{} {}", pair[0], pair[1]), false);
        push_term(analysis, format!("{} {}", pair[0], pair[1]), 0.25, source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(a: &Analysis) -> Vec<&str> {
        a.terms.iter().map(|t| t.term.as_str()).collect()
    }

    fn intents(query: &str) -> Vec<&'static str> {
        analyze(query).intent.names()
    }

    #[test]
    fn leading_verbs_name_intents() {
        let a = analyze("open a new issue");
        assert_eq!(a.intent.names(), ["create"]);
        assert_eq!(terms(&a), ["issu"]);
        assert_eq!(intents("get rid of a webhook"), ["delete"]);
        assert_eq!(intents("show me the pods"), ["list"]);
        assert_eq!(intents("show a pod"), ["get"]);
        assert_eq!(intents("pods in a namespace"), ["list"]);
        assert_eq!(intents("which repos do I own"), ["list"]);
        assert_eq!(intents("what models are available"), ["list"]);
        assert_eq!(intents("add labels to an issue"), ["create", "update"]);
        assert!(intents("merge a pull request").is_empty());
        assert!(intents("scale a deployment to 5 replicas").is_empty());
    }

    #[test]
    fn unknown_verbs_are_the_main_word() {
        let a = analyze("merge the pull request");
        assert_eq!(a.verb.as_deref(), Some("merg"));
        assert!(a.sources[0].required);
        assert_eq!(terms(&a), ["merg", "pull", "request"]);
    }

    #[test]
    fn the_person_themself_is_looked_for_not_required() {
        let a = analyze("who am I");
        assert_eq!(a.intent.names(), ["get"]);
        assert!(terms(&a).contains(&"auth"));
        assert!(a.sources.iter().all(|s| !s.required));
        let a = analyze("list my repositories");
        assert_eq!(a.sources.iter().filter(|s| s.required).count(), 1, "{a:?}");
    }

    #[test]
    fn ids_and_numbers_only_refine() {
        let a = analyze("look up a customer by id");
        let required: Vec<&str> = a
            .sources
            .iter()
            .filter(|s| s.required)
            .map(|s| s.word.as_str())
            .collect();
        assert_eq!(required, ["customer"]);
        let a = analyze("leave a comment on issue 42");
        assert_eq!(a.intent.names(), ["create"]);
        assert!(!a.sources.iter().any(|s| s.word == "42" && s.required));
    }

    #[test]
    fn the_object_is_the_first_run_of_content_words() {
        let objects = |query: &str| {
            let a = analyze(query);
            a.object
                .iter()
                .map(|&s| a.sources[s].word.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(objects("look up a customer by id"), ["customer"]);
        assert_eq!(
            objects("capture a previously authorized payment intent"),
            ["authorized", "payment", "intent"]
        );
        assert_eq!(objects("list commits on a branch"), ["commits"]);
        assert!(objects("who am i").is_empty());
    }

    #[test]
    fn pairs_written_as_one_word_are_joined() {
        let mut a = analyze("pay out funds");
        join_pairs(&mut a, |t| t == "payout");
        assert!(terms(&a).contains(&"payout"));
    }
}
