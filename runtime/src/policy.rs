//! Policies: ordered rules over tool paths that say whether a call runs,
//! waits for a person's approval, or is refused. Pure: no IO here; the
//! store keeps the rules and `invoke` enforces the decision.
//!
//! A pattern is a dotted path whose segments are names or `*`:
//! - `*` alone matches every tool;
//! - a `*` as the last segment matches one or more segments (a subtree:
//!   `github.*`);
//! - a `*` anywhere else matches exactly one segment
//!   (`github.*.*.issues.*` matches `github.org.main.issues.create`).
//!
//! Patterns are matched against the canonical path
//! (`<integration>.<owner>.<connection>.<tool>`). A pattern whose second
//! segment is not an owner (`org`, `user`) or `*` is written in the short
//! form (`github.issues.*`) and is matched against
//! `<integration>.<tool>` instead, the same short path `invoke` accepts.
//!
//! The first matching rule wins; with none, the tool's default policy from
//! the IR applies (reads allowed, writes and destructive tools need
//! approval).

use std::fmt;

use generator::ir::{Policy, Tool};
use serde::{Deserialize, Serialize};

/// One stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// `pol_<hex>`, stable across moves.
    pub id: String,
    /// Dotted tool path with `*` wildcards, e.g. `github.*.*.issues.*`.
    pub pattern: String,
    /// `allow`, `require_approval` or `block`.
    pub action: Policy,
    /// 1-based position in the evaluation order.
    pub position: usize,
}

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
    short: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Any,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let fail = |reason: &str| PatternError {
            pattern: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(fail(
                "it is empty; use `*` for every tool or a path such as `github.*`",
            ));
        }
        let mut segments = Vec::new();
        for part in text.split('.') {
            let segment = match part {
                "" => {
                    return Err(fail(
                        "it has an empty segment (two dots, or a leading or trailing dot)",
                    ));
                }
                "*" => Segment::Any,
                name if name.contains('*') => {
                    return Err(fail(
                        "`*` stands for whole segments only (write `github.*`, not `git*`)",
                    ));
                }
                name if name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')) =>
                {
                    Segment::Name(name.to_owned())
                }
                _ => {
                    return Err(fail(
                        "segments are letters, digits, `_`, `-` or `*`, separated by dots",
                    ));
                }
            };
            segments.push(segment);
        }
        let short = match segments.get(1) {
            Some(Segment::Name(second)) => second != "org" && second != "user",
            _ => false,
        };
        Ok(Pattern { segments, short })
    }

    /// Whether the pattern covers a tool.
    pub fn matches<S>(&self, tool: &Tool<S>) -> bool {
        if self.short {
            let short = format!("{}.{}", tool.integration, tool.name);
            self.matches_path(&short)
        } else {
            self.matches_path(&tool.path)
        }
    }

    fn matches_path(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('.').collect();
        let last = self.segments.len() - 1;
        for (i, segment) in self.segments.iter().enumerate() {
            match (segment, parts.get(i)) {
                (_, None) => return false,
                (Segment::Any, Some(_)) if i == last => return true,
                (Segment::Any, Some(_)) => {}
                (Segment::Name(name), Some(part)) if name == part => {}
                (Segment::Name(_), Some(_)) => return false,
            }
        }
        parts.len() == self.segments.len()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<&str> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Name(n) => n.as_str(),
                Segment::Any => "*",
            })
            .collect();
        f.write_str(&text.join("."))
    }
}

/// The rules in evaluation order, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<(Rule, Pattern)>,
}

/// What happens to a call, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Policy,
    /// The rule that decided; `None` when the tool's default applied.
    pub rule: Option<String>,
}

impl Rules {
    /// Rules whose pattern no longer parses (written by hand into the
    /// database) are skipped with a warning rather than failing the service.
    pub fn new(mut rules: Vec<Rule>) -> Rules {
        rules.sort_by_key(|r| r.position);
        let rules = rules
            .into_iter()
            .filter_map(|rule| match Pattern::parse(&rule.pattern) {
                Ok(pattern) => Some((rule, pattern)),
                Err(e) => {
                    tracing::warn!("policy {} is skipped: {e}", rule.id);
                    None
                }
            })
            .collect();
        Rules { rules }
    }

    pub fn decide<S>(&self, tool: &Tool<S>) -> Decision {
        for (rule, pattern) in &self.rules {
            if pattern.matches(tool) {
                return Decision {
                    action: rule.action,
                    rule: Some(rule.id.clone()),
                };
            }
        }
        Decision {
            action: tool.default_policy,
            rule: None,
        }
    }

    pub fn list(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|(r, _)| r)
    }
}

/// Parses an action as the CLI and API spell it.
pub fn parse_action(text: &str) -> Option<Policy> {
    match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
        "allow" => Some(Policy::Allow),
        "require_approval" | "approval" | "approve" => Some(Policy::RequireApproval),
        "block" | "deny" => Some(Policy::Block),
        _ => None,
    }
}

pub fn action_name(action: Policy) -> &'static str {
    match action {
        Policy::Allow => "allow",
        Policy::RequireApproval => "require_approval",
        Policy::Block => "block",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generator::ir::{Annotations, Binding, BuiltinBinding, ConnectionRef, Owner};
    use serde_json::json;

    fn tool(integration: &str, owner: Owner, connection: &str, name: &str, policy: Policy) -> Tool {
        let connection = ConnectionRef {
            owner,
            name: connection.to_owned(),
        };
        Tool {
            path: format!("{}{name}", connection.path_prefix(integration)),
            integration: integration.to_owned(),
            connection,
            name: name.to_owned(),
            title: None,
            description: None,
            input: json!({"type": "object"}),
            output: json!({}),
            annotations: Annotations::default(),
            default_policy: policy,
            deprecated: false,
            binding: Binding::Builtin(BuiltinBinding {
                operation: name.to_owned(),
            }),
        }
    }

    fn rules(list: &[(&str, Policy)]) -> Rules {
        Rules::new(
            list.iter()
                .enumerate()
                .map(|(i, (pattern, action))| Rule {
                    id: format!("pol_{i}"),
                    pattern: (*pattern).to_owned(),
                    action: *action,
                    position: i + 1,
                })
                .collect(),
        )
    }

    fn matches(pattern: &str, tool: &Tool) -> bool {
        Pattern::parse(pattern).unwrap().matches(tool)
    }

    #[test]
    fn patterns_match_segments() {
        let create = tool("github", Owner::Org, "main", "issues.create", Policy::Allow);
        assert_eq!(create.path, "github.org.main.issues.create");
        let user = tool(
            "github",
            Owner::User,
            "work",
            "issues.create",
            Policy::Allow,
        );
        let pets = tool("pets", Owner::Org, "main", "listPets", Policy::Allow);

        // Everything, subtrees, single segments.
        assert!(matches("*", &create) && matches("*", &pets));
        assert!(matches("github.*", &create) && matches("github.*", &user));
        assert!(!matches("github.*", &pets));
        assert!(matches("github.*.*.issues.*", &create));
        assert!(matches("github.*.*.issues.*", &user));
        assert!(!matches("github.*.*.pulls.*", &create));
        // An inner `*` is one segment, not several.
        assert!(!matches("github.*.issues.*", &create));
        // Exact paths, and nothing shorter or longer.
        assert!(matches("github.org.main.issues.create", &create));
        assert!(!matches("github.org.main.issues", &create));
        assert!(!matches("github.org.main.issues.create.x", &create));
        // Owner and connection narrow the match.
        assert!(matches("github.user.*", &user) && !matches("github.user.*", &create));
        assert!(matches("github.*.work.*", &user) && !matches("github.*.work.*", &create));
        // Short form: `<integration>.<tool>`.
        assert!(matches("github.issues.*", &create) && matches("github.issues.*", &user));
        assert!(matches("github.issues.create", &create));
        assert!(!matches("github.issues.delete", &create));
        assert!(matches("pets.listPets", &pets));
        // A trailing `*` needs at least one segment.
        assert!(!matches("pets.org.main.listPets.*", &pets));
    }

    #[test]
    fn bad_patterns_say_why() {
        for (text, reason) in [
            ("", "empty"),
            ("github..issues", "empty segment"),
            ("github.", "empty segment"),
            ("git*", "whole segments"),
            ("github.issues/create", "letters, digits"),
        ] {
            let e = Pattern::parse(text).unwrap_err();
            assert!(e.to_string().contains(reason), "{text:?}: {e}");
        }
        assert_eq!(
            Pattern::parse("github.*.*.issues.*").unwrap().to_string(),
            "github.*.*.issues.*"
        );
    }

    #[test]
    fn first_matching_rule_wins_else_the_default() {
        let create = tool(
            "github",
            Owner::Org,
            "main",
            "issues.create",
            Policy::RequireApproval,
        );
        let get = tool("github", Owner::Org, "main", "issues.get", Policy::Allow);
        let pets = tool(
            "pets",
            Owner::Org,
            "main",
            "deletePet",
            Policy::RequireApproval,
        );

        // No rules: the IR's default.
        let none = rules(&[]);
        assert_eq!(none.decide(&create).action, Policy::RequireApproval);
        assert_eq!(none.decide(&get).action, Policy::Allow);
        assert_eq!(none.decide(&get).rule, None);

        // Order decides between overlapping rules.
        let r = rules(&[
            ("github.issues.create", Policy::Block),
            ("github.*", Policy::Allow),
        ]);
        assert_eq!(
            r.decide(&create),
            Decision {
                action: Policy::Block,
                rule: Some("pol_0".into())
            }
        );
        assert_eq!(r.decide(&get).action, Policy::Allow);
        assert_eq!(r.decide(&get).rule.as_deref(), Some("pol_1"));
        assert_eq!(r.decide(&pets).action, Policy::RequireApproval);

        let reversed = rules(&[
            ("github.*", Policy::Allow),
            ("github.issues.create", Policy::Block),
        ]);
        assert_eq!(reversed.decide(&create).action, Policy::Allow);

        // A rule may also tighten a read.
        let tighten = rules(&[("github.*.*.issues.get", Policy::RequireApproval)]);
        assert_eq!(tighten.decide(&get).action, Policy::RequireApproval);
        assert_eq!(tighten.decide(&create).action, Policy::RequireApproval);
        assert_eq!(tighten.decide(&create).rule, None);
    }

    #[test]
    fn rules_are_evaluated_by_position_not_storage_order() {
        let get = tool("github", Owner::Org, "main", "issues.get", Policy::Allow);
        let r = Rules::new(vec![
            Rule {
                id: "b".into(),
                pattern: "*".into(),
                action: Policy::Allow,
                position: 2,
            },
            Rule {
                id: "a".into(),
                pattern: "github.*".into(),
                action: Policy::Block,
                position: 1,
            },
        ]);
        assert_eq!(r.decide(&get).rule.as_deref(), Some("a"));
        assert_eq!(
            r.list().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn actions_parse_as_written() {
        assert_eq!(parse_action("allow"), Some(Policy::Allow));
        assert_eq!(
            parse_action("require_approval"),
            Some(Policy::RequireApproval)
        );
        assert_eq!(
            parse_action("require-approval"),
            Some(Policy::RequireApproval)
        );
        assert_eq!(parse_action("BLOCK"), Some(Policy::Block));
        assert_eq!(parse_action("maybe"), None);
        for a in [Policy::Allow, Policy::RequireApproval, Policy::Block] {
            assert_eq!(parse_action(action_name(a)), Some(a));
        }
    }
}
