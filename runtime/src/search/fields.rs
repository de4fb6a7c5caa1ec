//! What a tool brings to the index: its fields' text, their weights, and
//! its prior before any query.

use std::collections::HashMap;

use generator::ir::{Binding, Catalog, SchemaText, Tool};
use serde::Serialize;

/// Fields, their weights and length normalisation: a match in the tool's
/// own name counts most; long descriptions are normalised hardest.
pub(super) const FIELDS: [(Field, f64, f64); FIELD_COUNT] = [
    (Field::Name, 3.0, 0.5),
    (Field::Title, 2.0, 0.5),
    (Field::Integration, 2.0, 0.3),
    (Field::Route, 0.8, 0.5),
    (Field::Params, 0.5, 0.75),
    (Field::Description, 1.0, 0.75),
    (Field::Phrase, 1.0, 0.3),
    (Field::Group, 0.5, 0.5),
];
pub(super) const FIELD_COUNT: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Name,
    Title,
    Integration,
    Route,
    Params,
    Description,
    /// Pairs of words side by side in the name or title (`service
    /// account`), so a query that says them together prefers the tool
    /// that does.
    Phrase,
    /// What the tool's group is for: the description of the OpenAPI tag
    /// its name is led by (`pulls`: "Interact with GitHub Pull Requests").
    Group,
}

/// Text that many tools share: their integration's name and title, and
/// their groups' descriptions.
pub(super) struct Shared<'a> {
    integrations: HashMap<&'a str, String>,
    groups: HashMap<(&'a str, &'a str), &'a str>,
}

impl<'a> Shared<'a> {
    pub(super) fn new(catalog: &'a Catalog<SchemaText>) -> Shared<'a> {
        let integrations = catalog
            .integrations
            .iter()
            .map(|i| {
                let title = i.title.as_deref().unwrap_or_default();
                (i.name.as_str(), format!("{} {title}", i.name))
            })
            .collect();
        let groups = catalog
            .integrations
            .iter()
            .flat_map(|i| {
                i.groups
                    .iter()
                    .map(|(group, text)| ((i.name.as_str(), group.as_str()), text.as_str()))
            })
            .collect();
        Shared {
            integrations,
            groups,
        }
    }
}

/// The group a tool's name is led by (`issues` in `issues.create`).
pub(super) fn group(tool: &Tool<SchemaText>) -> Option<&str> {
    tool.name.split_once('.').map(|(group, _)| group)
}

/// Words of an integration's title that every tool of every API would
/// share ("API", "REST", versions).
pub(super) fn is_generic_title_word(term: &str) -> bool {
    matches!(term, "api" | "rest" | "openapi" | "v" | "servic")
        || term.chars().all(|c| c.is_ascii_digit())
}

/// A tool's prior, before any query: deeper routes and deprecated tools
/// rank a little below their plain siblings. (Fewer required inputs was
/// tried as well, counted with and without the route's placeholders: it
/// cost the labelled set 2–3 points of top-1 at every weight, so it is not
/// here.)
pub(super) fn prior(tool: &Tool<SchemaText>) -> f64 {
    let mut prior = 1.0;
    if let Binding::Http(http) = &tool.binding {
        let depth = http
            .path_template
            .split('/')
            .filter(|s| !s.is_empty())
            .count() as f64;
        prior /= 1.0 + 0.02 * depth;
    }
    if tool.deprecated {
        prior *= 0.8;
    }
    prior
}

pub(super) fn field_text(tool: &Tool<SchemaText>, field: Field, shared: &Shared) -> String {
    match field {
        Field::Name => tool.name.clone(),
        Field::Title => tool.title.clone().unwrap_or_default(),
        Field::Integration => shared
            .integrations
            .get(tool.integration.as_str())
            .cloned()
            .unwrap_or_else(|| tool.integration.clone()),
        Field::Route => match &tool.binding {
            // The route's fixed words: `/repos/{owner}/{repo}/issues` → repos issues.
            Binding::Http(http) => http
                .path_template
                .split('/')
                .filter(|s| !s.starts_with('{'))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        },
        Field::Description => tool.description.clone().unwrap_or_default(),
        Field::Phrase => String::new(),
        Field::Group => group(tool)
            .and_then(|g| shared.groups.get(&(tool.integration.as_str(), g)))
            .map(|text| text.to_string())
            .unwrap_or_default(),
        Field::Params => {
            // Only the top-level property names, read from the schema's
            // text without building its tree.
            #[derive(serde::Deserialize)]
            struct Properties<'a> {
                #[serde(default, borrow)]
                properties:
                    std::collections::BTreeMap<std::borrow::Cow<'a, str>, serde::de::IgnoredAny>,
            }
            serde_json::from_str::<Properties>(tool.input.text())
                .map(|p| {
                    p.properties
                        .keys()
                        .map(|name| name.as_ref())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        }
    }
}
