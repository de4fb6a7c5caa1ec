//! The words of queries: which verbs name which intents, what words are
//! spelled out as, which only refine, and phrases read as one word.
//! Written by hand: the lexicon is small, and no crate knows what API
//! operations are called.

use super::intent::Intent;

/// Words before the verb that say nothing ("I want to", "how do I",
/// "can you please").
pub(super) const FILLERS: &[&str] = &[
    "i", "want", "to", "need", "how", "do", "can", "could", "would", "you", "please", "let",
    "lets", "help", "me", "like", "id", "we", "should", "just", "go", "and", "then", "quickly",
    "try", "a", "the", "hey",
];

/// Words that introduce the object of a verb: a query's first word
/// followed by one of these is a verb even if the lexicon does not know it
/// ("scale a deployment", "merge the pull request").
pub(super) const DETERMINERS: &[&str] = &[
    "a", "an", "the", "my", "all", "every", "some", "this", "that", "our", "your", "its", "their",
    "up", "out", "off", "down", "someone", "me",
];

/// Verbs that may lead a query, and the intents each names. Empty for verbs
/// that read one thing or many, decided by their object.
pub(super) fn verb(word: &str) -> Option<&'static [Intent]> {
    use Intent::*;
    Some(match word {
        "create" | "make" | "new" | "open" | "post" | "publish" | "register" | "generate"
        | "start" | "launch" | "build" | "write" | "insert" | "send" | "upload" | "spin"
        | "provision" | "invite" | "schedule" | "book" | "setup" | "leave" | "store" | "place"
        | "buy" | "take" | "share" | "save" | "file" | "report" | "run" | "trigger" | "react"
        | "bind" => &[Create],
        "add" | "submit" | "subscribe" | "attach" | "assign" | "put" | "tag" | "label" => {
            &[Create, Update]
        }
        "get" | "show" | "view" | "see" | "read" | "fetch" | "retrieve" | "display" | "look"
        | "lookup" | "find" | "inspect" | "check" | "describe" | "download" | "tell" | "give"
        | "obtain" | "what" | "whats" => &[],
        "list" | "enumerate" | "browse" | "search" | "which" | "many" => &[List],
        "update" | "edit" | "change" | "modify" | "rename" | "set" | "patch" | "alter"
        | "replace" | "toggle" | "adjust" | "configure" | "enable" | "disable" | "move"
        | "mark" | "rotate" | "close" | "reopen" | "archive" | "unarchive" | "turn" | "switch"
        | "lock" | "unlock" | "pin" | "unpin" | "cordon" | "uncordon" | "taint" => &[Update],
        "delete" | "remove" | "destroy" | "drop" | "erase" | "purge" | "trash" | "discard"
        | "uninstall" | "unsubscribe" | "wipe" | "revoke" | "prune" | "clear" | "cancel"
        | "detach" | "unassign" | "kick" | "evict" => &[Delete],
        "whoami" => &[Get],
        _ => return None,
    })
}

/// Verbs that say nothing a tool's words would: the intent carries them.
/// Every other verb is also looked up as a word, since a tool may be
/// named after it (`ContainerStart`, `sendMessage`, `pulls.merge`).
pub(super) fn verb_is_only_intent(word: &str) -> bool {
    matches!(
        word,
        "create"
            | "make"
            | "new"
            | "get"
            | "show"
            | "view"
            | "see"
            | "fetch"
            | "retrieve"
            | "display"
            | "look"
            | "lookup"
            | "find"
            | "tell"
            | "give"
            | "obtain"
            | "what"
            | "whats"
            | "which"
            | "many"
            | "list"
            | "enumerate"
            | "browse"
            | "update"
            | "change"
            | "modify"
            | "alter"
            | "delete"
            | "remove"
            | "destroy"
            | "erase"
            | "wipe"
            | "open"
            | "setup"
            | "spin"
            | "turn"
            | "switch"
            | "leave"
            | "place"
            | "take"
            | "whoami"
    )
}

/// Words spelled out: each word stands for these terms.
pub(super) fn expansion(word: &str) -> Option<&'static [&'static str]> {
    Some(match word {
        "pr" | "prs" => &["pull", "request"],
        "k8s" | "kube" => &["kubernetes"],
        "gh" => &["github"],
        "dm" | "dms" => &["direct", "messag"],
        "sms" | "texts" => &["sms", "messag"],
        "subscribe" | "unsubscribe" => &["subscript", "subscrib"],
        "ask" => &["request"],
        // Verbs whose act is a thing an API names by its noun.
        "react" => &["react", "reaction"],
        // A command run inside a running thing is an exec.
        "command" | "commands" => &["command", "exec"],
        // Quantities asked about in everyday words.
        "spend" | "spent" | "spending" => &["spend", "cost"],
        "left" | "remaining" => &["left", "remain"],
        "promo" => &["promo", "promot"],
        "tag" => &["tag", "label"],
        "diff" => &["diff", "compar"],
        "vm" | "vms" | "server" | "servers" => &["vm", "server", "instanc"],
        "song" | "songs" => &["song", "track"],
        "repo" | "repos" => &["repo"],
        "whoami" => SELF_TERMS,
        _ => return None,
    })
}

/// Words that only refine: looked up, not demanded.
pub(super) fn is_optional(word: &str) -> bool {
    matches!(
        word,
        "id" | "ids"
            | "api"
            | "apis"
            | "endpoint"
            | "details"
            | "info"
            | "exist"
            | "exists"
            | "available"
            | "currently"
            | "now"
            | "right"
            | "existing"
            | "given"
            | "specific"
            | "certain"
            | "particular"
            | "using"
            | "one"
            // A thing's value is what reading the thing gives.
            | "value"
            // Orders, which a tool takes as a parameter if at all.
            | "recent"
            | "latest"
            | "newest"
            | "oldest"
            // Spans of time, which a tool takes as parameters.
            | "today"
            | "yesterday"
            | "week"
            | "month"
            | "year"
            | "daily"
            | "weekly"
            | "monthly"
            // Manners, which an operation's words rarely say.
            | "previously"
            | "recently"
            | "permanently"
            | "temporarily"
            | "automatically"
            | "immediately"
            | "manually"
    ) || word.chars().all(|c| c.is_ascii_digit())
}

/// Terms that point at the person's own things.
pub(super) const SELF_TERMS: &[&str] = &["auth", "current", "me", "profil", "my"];

/// Words of a query that say nothing about which operation is meant
/// ("a phone number I no longer need", "a message the bot already sent").
pub(super) const NOISE: &[&str] = &["no", "longer", "anymore", "nothing", "already", "still"];

/// Phrases read as one word (`get rid of` → delete).
pub(super) const PHRASES: &[(&str, &str)] = &[
    ("get rid of", "delete"),
    ("who am i", "whoami"),
    ("logged in as", "whoami"),
    ("set up", "setup"),
    ("spin up", "spin"),
    ("kick off", "trigger"),
    ("power off", "shutdown"),
    ("shut down", "shutdown"),
    ("power on", "boot"),
    ("boot up", "boot"),
    ("look up", "lookup"),
    ("turn on", "enable"),
    ("switch on", "enable"),
    ("turn off", "disable"),
    ("switch off", "disable"),
    ("clean up", "prune"),
    ("issue a", "create a"),
    ("my account", "my"),
    ("my profile", "my"),
    ("issue an", "create an"),
];
