//! `$ref` resolution over the document and the files it refers to.
//!
//! Written by hand: the JSON Schema crates resolve refs inside schemas only,
//! while OpenAPI refs also point at parameters, responses, bodies and path
//! items, across files, and must never be fetched from the network.

use std::rc::Rc;

use serde_json::Value;

use crate::ingest::text;
use crate::ir::{percent_decode, unescape_pointer_token};

/// Supplies the text of files that a spec refers to with relative `$ref`s.
/// The generator does no IO itself: the caller decides what may be read.
pub trait RefLoader {
    /// `path` is relative to the directory of the root document, with `/`
    /// separators; only leading `..` segments remain. The loader decides
    /// what it is willing to read.
    fn load(&mut self, path: &str) -> Result<String, String>;

    /// The root document's own file name, so that refs naming it
    /// (`spec.yaml#/definitions/x`) point back into the root document.
    fn root_file(&self) -> Option<&str> {
        None
    }
}

/// Index of a document in a [`DocSet`]; the root document is 0.
pub(crate) type DocId = usize;

/// A place in one of the documents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Location {
    pub doc: DocId,
    /// An RFC 6901 JSON pointer, escaped (`/paths/~1pets`).
    pub pointer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RefError {
    #[error("$ref {0:?} points to the network; executor never fetches remote references")]
    Remote(String),
    #[error("$ref {reference:?} points to a file, which needs the spec to be loaded from a file")]
    NoLoader { reference: String },
    #[error("$ref {reference:?}: cannot read {path:?}: {reason}")]
    Unreadable {
        reference: String,
        path: String,
        reason: String,
    },
    #[error("$ref {reference:?} is an absolute path; use a path relative to the spec")]
    Escapes { reference: String },
    #[error("$ref {0:?} has a fragment that is not a JSON pointer")]
    BadFragment(String),
    #[error("$ref {0:?} points to nothing")]
    Dangling(String),
    #[error("$ref {0:?} is part of a cycle of references with no content")]
    Cycle(String),
}

struct Doc {
    path: String,
    value: Result<Rc<Value>, String>,
}

/// An object reached through its `$ref`s.
pub(crate) struct Followed {
    /// The document it lives in: refs inside it resolve against this one.
    pub doc: DocId,
    root: Rc<Value>,
    inner: String,
    /// Where it is, for diagnostics.
    pub pointer: String,
}

impl Followed {
    pub fn value(&self) -> &Value {
        self.root.pointer(&self.inner).unwrap_or(&Value::Null)
    }
}

/// The root document and every file loaded through it.
pub(crate) struct DocSet<'l> {
    docs: Vec<Doc>,
    loader: Option<&'l mut dyn RefLoader>,
}

impl<'l> DocSet<'l> {
    pub fn new(root: Rc<Value>, loader: Option<&'l mut dyn RefLoader>) -> Self {
        DocSet {
            docs: vec![Doc {
                path: String::new(),
                value: Ok(root),
            }],
            loader,
        }
    }

    pub fn root(&self) -> Rc<Value> {
        match &self.docs[0].value {
            Ok(v) => v.clone(),
            Err(_) => unreachable!("the root document is always parsed"),
        }
    }

    /// How a location is shown in diagnostics: `file#/pointer`.
    pub fn describe(&self, location: &Location) -> String {
        format!("{}#{}", self.docs[location.doc].path, location.pointer)
    }

    /// The value at a location, kept alive independently of the set.
    pub fn get(&self, location: &Location) -> Option<(Rc<Value>, String)> {
        let doc = self.docs.get(location.doc)?.value.as_ref().ok()?;
        doc.pointer(&location.pointer)?;
        Some((doc.clone(), location.pointer.clone()))
    }

    /// Where a `$ref` written in document `from` points.
    pub fn resolve(&mut self, from: DocId, reference: &str) -> Result<Location, RefError> {
        let (uri, fragment) = match reference.split_once('#') {
            Some((uri, fragment)) => (uri, fragment),
            None => (reference, ""),
        };
        let doc = if uri.is_empty() {
            from
        } else {
            self.open(from, uri, reference)?
        };
        let fragment = percent_decode(fragment);
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return Err(RefError::BadFragment(reference.to_owned()));
        }
        let location = Location {
            doc,
            pointer: fragment,
        };
        match &self.docs[doc].value {
            Ok(value) if value.pointer(&location.pointer).is_some() => Ok(location),
            Ok(_) => Err(RefError::Dangling(reference.to_owned())),
            Err(reason) => Err(RefError::Unreadable {
                reference: reference.to_owned(),
                path: self.docs[doc].path.clone(),
                reason: reason.clone(),
            }),
        }
    }

    /// Follows `$ref` chains of a non-schema object (parameter, response, ...)
    /// found at `pointer` in document `doc`, to the object itself.
    pub fn follow(
        &mut self,
        doc: DocId,
        value: &Value,
        pointer: &str,
    ) -> Result<Followed, RefError> {
        let Some(first) = value.get("$ref").and_then(Value::as_str) else {
            // Not a ref: share the document when the pointer names this very
            // value (the usual case), copy it otherwise.
            if let Ok(root) = &self.docs[doc].value
                && root
                    .pointer(pointer)
                    .is_some_and(|found| std::ptr::eq(found, value))
            {
                return Ok(Followed {
                    doc,
                    root: root.clone(),
                    inner: pointer.to_owned(),
                    pointer: pointer.to_owned(),
                });
            }
            return Ok(Followed {
                doc,
                root: Rc::new(value.clone()),
                inner: String::new(),
                pointer: pointer.to_owned(),
            });
        };
        let mut reference = first.to_owned();
        let mut from = doc;
        let mut seen = Vec::new();
        loop {
            let location = self.resolve(from, &reference)?;
            if seen.contains(&location) || seen.len() > 64 {
                return Err(RefError::Cycle(reference));
            }
            seen.push(location.clone());
            let (root, inner) = self.get(&location).ok_or(RefError::Dangling(reference))?;
            let next = root
                .pointer(&inner)
                .and_then(|t| t.get("$ref"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            match next {
                Some(next) => {
                    reference = next;
                    from = location.doc;
                }
                None => {
                    return Ok(Followed {
                        doc: location.doc,
                        root,
                        pointer: inner.clone(),
                        inner,
                    });
                }
            }
        }
    }

    pub fn path_of(&self, doc: DocId) -> &str {
        &self.docs[doc].path
    }

    fn open(&mut self, from: DocId, uri: &str, reference: &str) -> Result<DocId, RefError> {
        if has_scheme(uri) || uri.starts_with("//") {
            return Err(RefError::Remote(reference.to_owned()));
        }
        let base = &self.docs[from].path;
        let dir = match base.rfind('/') {
            Some(i) => &base[..=i],
            None => "",
        };
        let path = normalise(&format!("{dir}{}", percent_decode(uri))).ok_or_else(|| {
            RefError::Escapes {
                reference: reference.to_owned(),
            }
        })?;
        if let Some(i) = self.docs.iter().position(|d| d.path == path) {
            return Ok(i);
        }
        let Some(loader) = self.loader.as_deref_mut() else {
            return Err(RefError::NoLoader {
                reference: reference.to_owned(),
            });
        };
        if loader.root_file() == Some(path.as_str()) {
            return Ok(0);
        }
        let value = loader
            .load(&path)
            .and_then(|text| text::parse(&text).map_err(|e| e.to_string()))
            .map(Rc::new);
        self.docs.push(Doc { path, value });
        Ok(self.docs.len() - 1)
    }
}

/// `scheme:` at the start of a URI reference (RFC 3986), so `C:` style
/// Windows drive letters aside, `http:`, `https:`, `file:`, `urn:`.
fn has_scheme(uri: &str) -> bool {
    match uri.find(':') {
        Some(i) if i > 1 => uri[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')),
        _ => false,
    }
}

/// Resolves `.` and `..` segments (leading `..` stay: the loader decides
/// whether it reads outside the root document's directory); `None` for an
/// absolute path.
fn normalise(path: &str) -> Option<String> {
    if path.starts_with('/') || path.starts_with('\\') {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if out.last().is_none_or(|last| *last == "..") {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            s => out.push(s),
        }
    }
    Some(out.join("/"))
}

/// The unescaped tokens of a JSON pointer.
pub(crate) fn pointer_tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(unescape_pointer_token)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    struct Files(BTreeMap<&'static str, &'static str>);
    impl RefLoader for Files {
        fn load(&mut self, path: &str) -> Result<String, String> {
            self.0
                .get(path)
                .map(|s| s.to_string())
                .ok_or_else(|| "no such file".into())
        }
    }

    #[test]
    fn resolves_local_file_and_remote_refs() {
        let mut files = Files(BTreeMap::from([
            (
                "defs/pet.yaml",
                "type: object\nproperties:\n  owner: {$ref: 'person.yaml'}",
            ),
            ("defs/person.yaml", "type: string"),
        ]));
        let root = json!({"a": {"b~c": {"x": 1}}, "r": {"$ref": "#/a/b~0c"}});
        let mut docs = DocSet::new(Rc::new(root.clone()), Some(&mut files));
        assert_eq!(
            docs.resolve(0, "#/a/b~0c").unwrap(),
            Location {
                doc: 0,
                pointer: "/a/b~0c".into()
            }
        );
        assert!(matches!(
            docs.resolve(0, "#/missing"),
            Err(RefError::Dangling(_))
        ));
        assert!(matches!(
            docs.resolve(0, "https://example.com/x.json#/a"),
            Err(RefError::Remote(_))
        ));
        assert!(matches!(
            docs.resolve(0, "/etc/passwd"),
            Err(RefError::Escapes { .. })
        ));
        assert_eq!(normalise("a/../../b/./c").as_deref(), Some("../b/c"));
        let pet = docs.resolve(0, "defs/pet.yaml").unwrap();
        assert_eq!(docs.path_of(pet.doc), "defs/pet.yaml");
        // Refs inside a loaded file resolve relative to that file.
        let person = docs.resolve(pet.doc, "person.yaml").unwrap();
        assert_eq!(docs.path_of(person.doc), "defs/person.yaml");
        let followed = docs.follow(0, &root["r"], "/r").unwrap();
        assert_eq!(followed.value(), &json!({"x": 1}));
        assert_eq!(followed.pointer, "/a/b~0c");
        assert!(matches!(
            docs.resolve(0, "defs/missing.yaml"),
            Err(RefError::Unreadable { .. })
        ));
    }

    #[test]
    fn without_a_loader_file_refs_are_reported() {
        let mut docs = DocSet::new(Rc::new(json!({})), None);
        assert!(matches!(
            docs.resolve(0, "x.yaml"),
            Err(RefError::NoLoader { .. })
        ));
    }

    #[test]
    fn ref_cycles_between_objects_end() {
        let root = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/a"}});
        let mut docs = DocSet::new(Rc::new(root.clone()), None);
        assert!(matches!(
            docs.follow(0, &root["a"], "/a"),
            Err(RefError::Cycle(_))
        ));
    }
}
