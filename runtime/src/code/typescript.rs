//! A script's TypeScript types stripped by oxc (a real TypeScript parser):
//! the script is parsed as the body of an async function, so `await` and
//! `return` work at its top; syntax errors come back with their line and
//! column in the script as written.

use generator::envelope::{ErrorCode, ToolError};
use oxc::allocator::Allocator;
use oxc::codegen::Codegen;
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};
use serde_json::json;

use crate::errors::error;

/// The first line of the wrapper; errors are reported against the script.
const OPEN: &str = "async function __script() {\n";
const CLOSE: &str = "\n}";

/// Plain JavaScript for the body of an async function.
pub fn strip(source: &str) -> Result<String, ToolError> {
    let wrapped = format!("{OPEN}{source}{CLOSE}");
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, &wrapped, SourceType::ts()).parse();
    if let Some(first) = parsed.errors.first() {
        let offset = first
            .labels
            .as_ref()
            .and_then(|labels| labels.first())
            .map(|label| label.offset());
        return Err(syntax_error(
            source,
            &first.message,
            offset,
            parsed.errors.len(),
        ));
    }
    let mut program = parsed.program;
    let scoping = SemanticBuilder::new()
        .build(&program)
        .semantic
        .into_scoping();
    let transformed = Transformer::new(
        &allocator,
        std::path::Path::new("script.ts"),
        &TransformOptions::default(),
    )
    .build_with_scoping(scoping, &mut program);
    if let Some(first) = transformed.errors.first() {
        return Err(syntax_error(
            source,
            &first.message,
            None,
            transformed.errors.len(),
        ));
    }
    let printed = Codegen::new().build(&program).code;
    // Take the body back out of the wrapper function.
    let start = printed.find('{').map_or(0, |i| i + 1);
    let end = printed.rfind('}').unwrap_or(printed.len());
    Ok(printed[start..end.max(start)].to_owned())
}

fn syntax_error(source: &str, message: &str, offset: Option<usize>, count: usize) -> ToolError {
    let place = offset.map(|offset| {
        let offset = offset.saturating_sub(OPEN.len()).min(source.len());
        let before = &source[..floor_char_boundary(source, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    });
    let at = place.map_or(String::new(), |(line, column)| {
        format!(" at line {line}, column {column}")
    });
    let more = if count > 1 {
        format!(" ({} more after it)", count - 1)
    } else {
        String::new()
    };
    error(
        ErrorCode::InvalidInput,
        format!("the script does not parse{at}: {message}{more}"),
        Some(json!({
            "line": place.map(|p| p.0),
            "column": place.map(|p| p.1),
            "message": message,
        })),
    )
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_go_and_the_body_stays() {
        let js = strip(
            "interface Issue { title: string }\nconst a: Issue[] = [];\nconst n = await Promise.resolve(1 as number);\nreturn { n, a };",
        )
        .unwrap();
        assert!(!js.contains("interface"), "{js}");
        assert!(!js.contains(": Issue"), "{js}");
        assert!(js.contains("await Promise.resolve(1)"), "{js}");
        assert!(js.contains("return"), "{js}");
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = strip("const a = 1;\nconst b = ;\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        let details = e.details.unwrap();
        assert_eq!(details["line"], 2, "{}", e.message);
        assert_eq!(details["column"], 11, "{}", e.message);
        assert!(e.message.contains("line 2, column 11"), "{}", e.message);
    }
}
