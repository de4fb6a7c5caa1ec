//! What a forwarded result says it is. The 2026-07-28 revision requires
//! `resultType` on every result; an upstream on an older revision leaves it
//! out, which means "complete" (clients MUST read an absent one so). The
//! source view writes it on what it forwards, and rmcp strips it again for
//! peers on older revisions, so each peer sees its own revision's shape.

use rmcp::model::{
    CallToolResult, CompleteResult, GetPromptResponse, GetPromptResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResponse, ReadResourceResult,
    ResultType,
};

pub(super) trait Stamped {
    /// The result with `resultType` set ("complete" when it had none).
    fn stamped(self) -> Self;
}

macro_rules! stamped {
    ($($result:ty),*) => {$(
        impl Stamped for $result {
            fn stamped(mut self) -> Self {
                self.result_type.get_or_insert(ResultType::COMPLETE);
                self
            }
        }
    )*};
}

stamped!(
    CallToolResult,
    CompleteResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourceTemplatesResult,
    ListResourcesResult,
    ReadResourceResult
);

impl Stamped for GetPromptResponse {
    fn stamped(self) -> Self {
        match self {
            Self::Complete(result) => Self::Complete(result.stamped()),
            other => other,
        }
    }
}

impl Stamped for ReadResourceResponse {
    fn stamped(self) -> Self {
        match self {
            Self::Complete(result) => Self::Complete(result.stamped()),
            other => other,
        }
    }
}

impl<T: Stamped, E> Stamped for Result<T, E> {
    fn stamped(self) -> Self {
        self.map(Stamped::stamped)
    }
}
