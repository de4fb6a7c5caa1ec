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
}

impl Caller {
    pub const OWNER: Caller = Caller {
        role: Role::Owner,
        client: None,
    };
    pub const AGENT: Caller = Caller {
        role: Role::Agent,
        client: None,
    };

    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }

    /// The caller recorded as [`Caller::as_str`] (a stored run's).
    pub fn recorded(role: &str) -> Caller {
        match role {
            "mcp" => Caller::AGENT,
            _ => Caller::OWNER,
        }
    }

    /// How executions record the caller.
    pub fn as_str(&self) -> &'static str {
        match self.role {
            Role::Owner => "api",
            Role::Agent => "mcp",
        }
    }
}
