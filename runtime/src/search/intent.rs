//! What an operation does: create, read one, list, change or delete.
//!
//! A tool's intent is read from what the IR knows: the HTTP method and
//! whether the path ends at a collection (`/pods`), at one item
//! (`/pods/{name}`) or at a singleton (`/user`, `/v1/balance`), and the verb
//! its name leads with (`issues.addLabels`). Stripe-style names
//! (`getCustomersCustomer`) lead with the HTTP method, which says nothing
//! the binding does not, so only the binding counts for them.

use generator::ir::{Binding, SchemaText, Tool};

use super::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Create,
    Get,
    List,
    Update,
    Delete,
}

/// A set of intents (a verb such as "add" or "subscribe" may create or
/// change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Intents(u8);

impl Intents {
    pub const NONE: Intents = Intents(0);

    pub fn of(intents: &[Intent]) -> Intents {
        Intents(intents.iter().fold(0, |m, i| m | i.bit()))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn meets(self, other: Intents) -> bool {
        self.0 & other.0 != 0
    }

    pub fn names(self) -> Vec<&'static str> {
        ALL.iter()
            .filter(|i| self.0 & i.bit() != 0)
            .map(|i| i.as_str())
            .collect()
    }
}

const ALL: [Intent; 5] = [
    Intent::Create,
    Intent::Get,
    Intent::List,
    Intent::Update,
    Intent::Delete,
];

impl Intent {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Create => "create",
            Intent::Get => "get",
            Intent::List => "list",
            Intent::Update => "update",
            Intent::Delete => "delete",
        }
    }
}

/// The intent a tool's name names by its leading verb.
fn of_name_verb(word: &str) -> Option<Intent> {
    Some(match word {
        "create" | "add" | "insert" | "new" | "post" | "send" | "upload" | "register" => {
            Intent::Create
        }
        "get" | "retrieve" | "read" | "fetch" | "show" | "describe" | "view" | "lookup" => {
            Intent::Get
        }
        "list" | "search" | "query" | "browse" => Intent::List,
        "update" | "edit" | "patch" | "put" | "set" | "replace" | "modify" | "change"
        | "rename" | "configure" => Intent::Update,
        "delete" | "remove" | "destroy" | "drop" | "erase" | "purge" | "unset" => Intent::Delete,
        _ => return None,
    })
}

/// The verb a tool's name leads with (`issues.addLabels` → add) or, in
/// names that put it last, ends with (Docker's `containerList` → list). A
/// leading HTTP method (Telegram's `postSendPoll`) is not the verb.
pub fn name_verb(tool: &Tool<SchemaText>) -> Option<String> {
    let (group, last) = tool.name.rsplit_once('.').unwrap_or(("", &tool.name));
    let mut words = text::words(last);
    if let Binding::Http(http) = &tool.binding
        && words.len() > 1
        && words[0].eq_ignore_ascii_case(&http.method)
    {
        words.remove(0);
    }
    let first = words.first()?;
    if of_name_verb(first).is_some() || words.len() == 1 {
        return Some(first.clone());
    }
    let end = words.last()?;
    // `container.containerStart`: a name that repeats its group's noun
    // first puts its verb last.
    if of_name_verb(end).is_some() || text::words(group).contains(first) {
        return Some(end.clone());
    }
    Some(first.clone())
}

/// A tool's intents: what its binding does and, when it says more, what
/// its name's verb says. Both may be unknown (actions such as `merge`).
pub fn of_tool(tool: &Tool<SchemaText>, name_verb: Option<&str>) -> Intents {
    let named = name_verb.and_then(of_name_verb);
    let found: Vec<Intent> = match &tool.binding {
        Binding::Http(http) => {
            let method = http.method.to_ascii_lowercase();
            of_route(&method, &http.path_template)
                .into_iter()
                .chain(named)
                .collect()
        }
        _ => named.into_iter().collect(),
    };
    Intents::of(&found)
}

/// Method and route: GET on a collection lists, GET on an item or a
/// singleton reads, POST to a collection creates, POST to an item (Stripe)
/// updates, POST to a singular word (`/merge`) is an action.
fn of_route(method: &str, path: &str) -> Option<Intent> {
    let last = segments(path).next_back().unwrap_or_default();
    let item = last.starts_with('{');
    let word = text::words(last).pop().unwrap_or_default();
    let collection =
        !item && (text::is_plural(&word) || matches!(word.as_str(), "search" | "list" | "query"));
    match method {
        "get" | "head" if collection => Some(Intent::List),
        "get" | "head" => Some(Intent::Get),
        "post" if collection => Some(Intent::Create),
        "post" if item => Some(Intent::Update),
        "post" => None,
        "put" | "patch" => Some(Intent::Update),
        "delete" => Some(Intent::Delete),
        _ => None,
    }
}

/// What an HTTP operation acts on, as terms: the head noun (its last
/// word) of its route's last fixed segment (`/repos/{o}/{r}/pulls` → pull,
/// `/v1/subscription_schedules` → schedule) and, when that segment is an
/// action or a singleton rather than a collection (`/pulls/{n}/merge`,
/// `/deployments/{name}/scale`), the head of the one before it too. Empty
/// for other bindings.
pub fn resource(tool: &Tool<SchemaText>) -> Vec<String> {
    match &tool.binding {
        Binding::Http(http) => route_resource(&http.path_template),
        _ => Vec::new(),
    }
}

/// Whether a tool reads the signed-in identity itself: a GET of a route
/// with no placeholder that ends at the person (`/user`, `/v1/me`,
/// `/profile`, Telegram's `/getMe`). "Who am I" means one of these.
pub fn reads_self(tool: &Tool<SchemaText>) -> bool {
    match &tool.binding {
        Binding::Http(http) => route_reads_self(&http.method, &http.path_template),
        _ => false,
    }
}

fn route_reads_self(method: &str, path: &str) -> bool {
    const SELF: &[&str] = &["user", "me", "self", "whoami", "profile", "account"];
    method.eq_ignore_ascii_case("get")
        && !path.contains('{')
        && path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .and_then(|last| text::words(last).pop())
            .is_some_and(|w| SELF.contains(&w.as_str()))
}

/// A route's segments, placeholders among them, without the formats that
/// say nothing of what it is about (`/containers/json`).
fn segments(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/')
        .filter(|s| !s.is_empty() && !matches!(*s, "json" | "xml" | "yaml"))
}

fn route_resource(path: &str) -> Vec<String> {
    let fixed = segments(path).filter(|s| !s.starts_with('{'));
    let mut heads = Vec::new();
    for segment in fixed.rev().take(2) {
        let words = text::words(segment);
        if let Some(head) = words.iter().rev().find(|w| !text::is_stop_word(w)) {
            heads.push(text::term(head));
        }
        // `branches-where-head`, `tax_ids`: a collection all the same.
        if words.iter().any(|w| w == "ids" || text::is_plural(w)) {
            break;
        }
    }
    heads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_say_what_an_operation_does() {
        assert_eq!(of_route("get", "/v1/customers"), Some(Intent::List));
        assert_eq!(of_route("get", "/v1/customers/{id}"), Some(Intent::Get));
        assert_eq!(of_route("get", "/user"), Some(Intent::Get));
        assert_eq!(of_route("post", "/v1/customers"), Some(Intent::Create));
        assert_eq!(of_route("post", "/v1/customers/{id}"), Some(Intent::Update));
        assert_eq!(of_route("post", "/repos/{o}/{r}/merge"), None);
        assert_eq!(of_route("delete", "/gists/{id}"), Some(Intent::Delete));
        assert_eq!(
            of_route("get", "/api/v1/namespaces/{namespace}/pods"),
            Some(Intent::List)
        );
        assert_eq!(of_route("get", "/containers/json"), Some(Intent::List));
        assert_eq!(of_route("get", "/v1/customers/search"), Some(Intent::List));
    }

    #[test]
    fn a_route_acts_on_its_last_fixed_segment() {
        assert_eq!(route_resource("/v1/customers/{customer}"), ["custom"]);
        // A sub-collection is what is acted on, not its parent.
        assert_eq!(route_resource("/v1/customers/{customer}/tax_ids"), ["id"]);
        assert_eq!(
            route_resource("/repos/{o}/{r}/commits/{sha}/branches-where-head"),
            ["head"]
        );
        // The head of a compound: a schedule, not a subscription.
        assert_eq!(route_resource("/v1/subscription_schedules"), ["schedul"]);
        // An action or a singleton: the thing it is done to as well.
        assert_eq!(
            route_resource("/apis/apps/v1/namespaces/{n}/deployments/{name}/scale"),
            ["scale", "deploy"]
        );
        assert_eq!(route_resource("/containers/json"), ["contain"]);
    }

    #[test]
    fn the_signed_in_person_is_read_at_a_route_of_their_own() {
        assert!(route_reads_self("GET", "/user"));
        assert!(route_reads_self("get", "/v1/me"));
        assert!(route_reads_self("GET", "/bot/getMe"));
        assert!(!route_reads_self("GET", "/users/{username}"));
        assert!(!route_reads_self("PATCH", "/user"));
        assert!(!route_reads_self("GET", "/repos/{o}/{r}/community/profile"));
    }
}
