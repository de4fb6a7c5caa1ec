//! Checking a caller's `select` against the schema before it is sent, so a
//! typo is answered at once, with where it is and what would fit, instead
//! of by the upstream's own wording (or not at all, by a lenient server).
//!
//! This is the part of GraphQL's validation (the spec's section 5) that a
//! selection set for one known field can break: fields exist on their type,
//! leaves have no braces and objects do, arguments exist and required ones
//! are given, fragments name a type the selection can be. The parser is
//! graphql-parser's; no crate validates against a schema model without also
//! bringing its own executor.

use graphql_parser::Pos;
use graphql_parser::query::{
    Definition, OperationDefinition, Selection, SelectionSet, TypeCondition,
};

use super::{Field, Kind, Schema};
use crate::ir::GraphqlOperation;

const BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "ID", "Boolean"];

impl Schema {
    /// Checks `select` (a selection set in braces) as the selection of the
    /// root field `field` of `operation`. Every problem found is reported,
    /// each with its line and column in `select`.
    pub fn check_select(
        &self,
        operation: GraphqlOperation,
        field: &str,
        select: &str,
    ) -> Result<(), Vec<String>> {
        let root = match operation {
            GraphqlOperation::Query => self.query.as_deref(),
            GraphqlOperation::Mutation => self.mutation.as_deref(),
        };
        let Some(root_field) = root
            .and_then(|r| self.fields(r))
            .and_then(|fields| fields.iter().find(|f| f.name == field))
        else {
            return Err(vec![format!(
                "the schema no longer has the root field {field}: refresh the source"
            )]);
        };
        let document = graphql_parser::parse_query::<String>(select)
            .map_err(|e| vec![format!("\"select\" does not parse: {e}")])?;
        let set = match document.definitions.as_slice() {
            [Definition::Operation(OperationDefinition::SelectionSet(set))] => set,
            _ => {
                return Err(vec![
                    "\"select\" is one selection set in braces, e.g. \"{ id name }\" (no operation or fragment definitions)".into(),
                ]);
            }
        };
        let ty = root_field.ty.name();
        if self.is_leaf(ty) {
            return Err(vec![format!(
                "{field} answers {}, which has no fields: there is nothing to select",
                a(ty)
            )]);
        }
        let mut errors = Vec::new();
        self.check_set(ty, set, field, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn fields(&self, type_name: &str) -> Option<&[Field]> {
        match &self.types.get(type_name)?.kind {
            Kind::Object(fields) | Kind::Interface(fields) => Some(fields),
            _ => None,
        }
    }

    /// Scalars and enums; a type the schema does not define is taken as a
    /// scalar (the schema is read leniently, so this is not the caller's
    /// mistake).
    fn is_leaf(&self, type_name: &str) -> bool {
        BUILTIN_SCALARS.contains(&type_name)
            || match self.types.get(type_name).map(|t| &t.kind) {
                Some(Kind::Scalar | Kind::Enum(_)) | None => true,
                Some(_) => false,
            }
    }

    fn check_set(
        &self,
        type_name: &str,
        set: &SelectionSet<'_, String>,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let union = matches!(
            self.types.get(type_name).map(|t| &t.kind),
            Some(Kind::Union(_))
        );
        for item in &set.items {
            match item {
                Selection::Field(selected) => {
                    let at = at(selected.position);
                    let name = selected.name.as_str();
                    let here = format!("{path}.{name}");
                    if name == "__typename" {
                        if !selected.selection_set.items.is_empty() {
                            errors.push(format!("`__typename` is a String, which has no fields: remove its braces ({at})"));
                        }
                        continue;
                    }
                    if union {
                        errors.push(format!(
                            "{type_name} is a union: select `__typename` or `... on <member> {{ ... }}`, not `{name}` ({at})"
                        ));
                        continue;
                    }
                    let fields = self.fields(type_name).unwrap_or_default();
                    let Some(field) = fields.iter().find(|f| f.name == name) else {
                        errors.push(format!(
                            "{type_name} has no field `{name}` ({at}){}",
                            suggest(name, fields.iter().map(|f| f.name.as_str()))
                        ));
                        continue;
                    };
                    for (argument, _) in &selected.arguments {
                        if !field.args.iter().any(|a| &a.name == argument) {
                            errors.push(format!(
                                "`{here}` has no argument `{argument}` ({at}){}",
                                suggest(argument, field.args.iter().map(|a| a.name.as_str()))
                            ));
                        }
                    }
                    for required in field.args.iter().filter(|a| a.ty.non_null() && !a.has_default) {
                        if !selected.arguments.iter().any(|(n, _)| n == &required.name) {
                            errors.push(format!(
                                "`{here}` needs the argument `{}: {}` ({at})",
                                required.name,
                                required.ty.text()
                            ));
                        }
                    }
                    let inner = field.ty.name();
                    match (self.is_leaf(inner), selected.selection_set.items.is_empty()) {
                        (true, false) => errors.push(format!(
                            "`{here}` is {}, which has no fields: remove its braces ({at})",
                            a(inner)
                        )),
                        (false, true) => errors.push(format!(
                            "`{here}` is {}: say which of its fields to select, e.g. `{name} {{ {} }}` ({at})",
                            a(inner),
                            self.example(inner)
                        )),
                        (false, false) => self.check_set(inner, &selected.selection_set, &here, errors),
                        (true, true) => {}
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let at = at(fragment.position);
                    let target = match &fragment.type_condition {
                        Some(TypeCondition::On(t)) => t.as_str(),
                        None => type_name,
                    };
                    match self.types.get(target).map(|t| &t.kind) {
                        Some(Kind::Object(_) | Kind::Interface(_) | Kind::Union(_)) => {}
                        Some(_) => {
                            errors.push(format!("`... on {target}`: {target} has no fields ({at})"));
                            continue;
                        }
                        None => {
                            errors.push(format!(
                                "`... on {target}`: the schema has no type {target} ({at}){}",
                                suggest(target, self.types.keys().map(String::as_str))
                            ));
                            continue;
                        }
                    }
                    if let Some(Kind::Union(members)) = self.types.get(type_name).map(|t| &t.kind)
                        && target != type_name
                        && !members.iter().any(|m| m == target)
                        && matches!(self.types.get(target).map(|t| &t.kind), Some(Kind::Object(_)))
                    {
                        errors.push(format!(
                            "`... on {target}`: {target} is not a member of {type_name} (members: {}) ({at})",
                            members.join(", ")
                        ));
                        continue;
                    }
                    self.check_set(target, &fragment.selection_set, path, errors);
                }
                Selection::FragmentSpread(spread) => errors.push(format!(
                    "`...{}`: named fragments cannot be defined in \"select\"; write `... on <Type> {{ ... }}` ({})",
                    spread.fragment_name,
                    at(spread.position)
                )),
            }
        }
    }

    /// A few leaf fields of a type, for an example in a message.
    fn example(&self, type_name: &str) -> String {
        let leaves: Vec<&str> = self
            .fields(type_name)
            .unwrap_or_default()
            .iter()
            .filter(|f| self.is_leaf(f.ty.name()))
            .take(3)
            .map(|f| f.name.as_str())
            .collect();
        if leaves.is_empty() {
            "__typename".into()
        } else {
            leaves.join(" ")
        }
    }
}

/// "an Int", "a Film".
fn a(type_name: &str) -> String {
    let vowel = type_name.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

fn at(position: Pos) -> String {
    format!("line {}, column {}", position.line, position.column)
}

/// "; did you mean `x`?" for the closest name, or the names there are when
/// there are few.
fn suggest<'a>(wrong: &str, names: impl Iterator<Item = &'a str> + Clone) -> String {
    let best = names
        .clone()
        .map(|n| {
            (
                strsim::levenshtein(&wrong.to_lowercase(), &n.to_lowercase()),
                n,
            )
        })
        .min();
    match best {
        Some((distance, name)) if distance <= (wrong.len() / 3).max(2) => {
            format!("; did you mean `{name}`?")
        }
        _ => {
            let all: Vec<&str> = names.collect();
            if all.is_empty() || all.len() > 20 {
                String::new()
            } else {
                format!("; it has: {}", all.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        type Query { film(id: ID!): Film, search(text: String!): [Result!]! , count: Int }
        type Mutation { rate(id: ID!, stars: Int!): Film }
        type Film { id: ID!, title: String, episode: Int, director: Person, characters(first: Int): [Person] }
        type Person { name: String, films: [Film] }
        type Planet { name: String }
        union Result = Film | Person
        enum Colour { RED }
    "#;

    fn check(field: &str, select: &str) -> Result<(), Vec<String>> {
        Schema::read(SDL)
            .unwrap()
            .check_select(GraphqlOperation::Query, field, select)
    }

    #[test]
    fn accepts_valid_selections() {
        check("film", "{ id title director { name films { title } } }").unwrap();
        check(
            "film",
            "{ alias: title characters(first: 2) { name } __typename }",
        )
        .unwrap();
        check(
            "search",
            "{ __typename ... on Film { title } ... on Person { name } }",
        )
        .unwrap();
        Schema::read(SDL)
            .unwrap()
            .check_select(GraphqlOperation::Mutation, "rate", "{ id }")
            .unwrap();
    }

    #[test]
    fn names_the_unknown_field_where_it_is_and_the_closest_one() {
        let errors = check("film", "{ id\n  titel }").unwrap_err();
        assert_eq!(
            errors,
            ["Film has no field `titel` (line 2, column 3); did you mean `title`?"]
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let errors = check(
            "film",
            "{ director characters(last: 1) { name { first } } episode { n } }",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("`film.director` is a Person: say which of its fields"));
        assert!(errors[1].contains("`film.characters` has no argument `last`"));
        assert!(errors[2].contains("`film.characters.name` is a String, which has no fields"));
        assert!(errors[3].contains("`film.episode` is an Int, which has no fields"));
    }

    #[test]
    fn unions_take_typename_and_fragments_of_members_only() {
        let errors = check(
            "search",
            "{ title ... on Planet { name } ... on Colour { x } }",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("Result is a union"));
        assert!(errors[1].contains("Planet is not a member of Result (members: Film, Person)"));
        assert!(errors[2].contains("Colour has no fields"));
    }

    #[test]
    fn extensions_count_whichever_comes_first() {
        let sdl = format!(
            "extend type Film {{ rating: Int }}\n{SDL}\nextend union Result = Planet\ninterface Named {{ name: String }}\nextend interface Named {{ nick: String }}\ntype Query2 {{ named: Named }}"
        );
        let schema = Schema::read(&sdl).unwrap();
        schema
            .check_select(GraphqlOperation::Query, "film", "{ rating }")
            .unwrap();
        schema
            .check_select(
                GraphqlOperation::Query,
                "search",
                "{ ... on Planet { name } }",
            )
            .unwrap();
        assert!(
            schema
                .fields("Named")
                .unwrap()
                .iter()
                .any(|f| f.name == "nick")
        );
    }

    #[test]
    fn refuses_what_is_not_one_selection_set() {
        for select in ["{ ...F } fragment F on Film { id }", "query { id }", "{ id"] {
            assert!(check("film", select).is_err(), "{select}");
        }
        let spread = check("film", "{ ...F }").unwrap_err();
        assert!(spread[0].contains("named fragments"), "{spread:?}");
        let leaf = check("count", "{ id }").unwrap_err();
        assert!(leaf[0].contains("nothing to select"), "{leaf:?}");
    }
}
