//! Who makes a call: a leaf every room may name. Passed by reference
//! through `invoke`, `permit` and `execution::pause`.

/// Who is calling. Agents (MCP) may not change executor's own settings
/// without a person's approval; the machine's owner (the token holder using
/// the REST API, the CLI or a generated client) may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The machine's owner: the REST API, the CLI, generated clients.
    Owner,
    /// An MCP client.
    Agent,
}

/// Who makes a call. Passed by reference through `invoke`, `permit` and
/// `execution::pause`, so that what a caller is can grow (a client
/// identity, its scope, its own policies) without touching every signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The client's name, when it has one of its own.
    pub client: Option<String>,
    /// What a client of its own may do (`None`: the owner, or the holder
    /// of the MCP token, who may see every tool).
    pub grant: Option<std::sync::Arc<Grant>>,
    /// The door the call came by, for the audit log: `api`, `cli`, `web`,
    /// `mcp` or `code`.
    pub via: &'static str,
}

/// A client's scope and its own policy override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    /// Tool path patterns it may see and call.
    pub scope: Vec<crate::policy::Pattern>,
    /// Every call it makes waits for approval.
    pub approve_all: bool,
}

impl Caller {
    pub const OWNER: Caller = Caller {
        role: Role::Owner,
        client: None,
        grant: None,
        via: "api",
    };
    pub const AGENT: Caller = Caller {
        role: Role::Agent,
        client: None,
        grant: None,
        via: "mcp",
    };

    /// The same caller, come by another door.
    pub fn via(&self, via: &'static str) -> Caller {
        Caller {
            via,
            ..self.clone()
        }
    }

    /// Whether this caller may see (and so call) a tool.
    pub fn sees<S>(&self, tool: &generator::ir::Tool<S>) -> bool {
        self.grant
            .as_ref()
            .is_none_or(|g| g.scope.iter().any(|p| p.matches(tool)))
    }

    /// Whether every call waits for a person, whatever the policies say.
    pub fn approves_all(&self) -> bool {
        self.grant.as_ref().is_some_and(|g| g.approve_all)
    }

    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }

    /// The caller recorded as [`Caller::record`] (a stored run's), without
    /// a client's grant: `clients::recorded` gives that back.
    pub fn recorded(role: &str) -> Caller {
        match role.split_once(':').map_or(role, |(role, _)| role) {
            "mcp" => Caller::AGENT,
            _ => Caller::OWNER,
        }
    }

    /// How executions and runs record the caller: its role, and the
    /// client's id when it has one (`mcp:cl_…`).
    pub fn record(&self) -> String {
        match &self.grant {
            Some(grant) => format!("{}:{}", self.as_str(), grant.client_id),
            None => self.as_str().to_owned(),
        }
    }

    /// The client id in a [`record`](Self::record), if any.
    pub fn client_in(record: &str) -> Option<&str> {
        record.split_once(':').map(|(_, id)| id)
    }

    /// How executions record the caller.
    pub fn as_str(&self) -> &'static str {
        match self.role {
            Role::Owner => "api",
            Role::Agent => "mcp",
        }
    }
}
