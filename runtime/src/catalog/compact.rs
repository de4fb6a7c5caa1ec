//! An integration's shared definitions held as compact JSON text: what
//! the live catalog keeps instead of `Value` trees (seven times larger).

use serde_json::Value;

/// One integration's definitions as compact JSON text, back to back in
/// one buffer: a few large allocations rather than one per definition, so
/// the JSON trees they were made from leave whole pages behind when freed.
#[derive(Default)]
pub(super) struct CompactDefs {
    text: String,
    /// Per definition, in their order: where its name and its JSON lie.
    spans: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    /// `spans` indices sorted by name.
    by_name: Vec<usize>,
}

impl CompactDefs {
    pub(super) fn new(defs: serde_json::Map<String, Value>) -> CompactDefs {
        let mut text = String::new();
        let mut spans = Vec::with_capacity(defs.len());
        for (name, def) in &defs {
            let name_start = text.len();
            text.push_str(name);
            let def_start = text.len();
            text.push_str(&def.to_string());
            spans.push((name_start..def_start, def_start..text.len()));
        }
        drop(defs);
        text.shrink_to_fit();
        let mut by_name: Vec<usize> = (0..spans.len()).collect();
        by_name.sort_by(|&a, &b| text[spans[a].0.clone()].cmp(&text[spans[b].0.clone()]));
        CompactDefs {
            text,
            spans,
            by_name,
        }
    }

    fn name(&self, i: usize) -> &str {
        &self.text[self.spans[i].0.clone()]
    }

    fn json(&self, i: usize) -> &str {
        &self.text[self.spans[i].1.clone()]
    }

    /// Every definition as `(name, JSON)`, in order.
    pub(super) fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.spans.len()).map(|i| (self.name(i), self.json(i)))
    }

    /// A definition, parsed.
    pub(super) fn get(&self, name: &str) -> Option<Value> {
        let found = self
            .by_name
            .binary_search_by(|&i| self.name(i).cmp(name))
            .ok()?;
        Some(serde_json::from_str(self.json(self.by_name[found])).unwrap_or(Value::Null))
    }

    /// Every definition, parsed, in order.
    pub(super) fn all(&self) -> serde_json::Map<String, Value> {
        self.texts()
            .map(|(name, json)| {
                (
                    name.to_owned(),
                    serde_json::from_str(json).unwrap_or(Value::Null),
                )
            })
            .collect()
    }
}
