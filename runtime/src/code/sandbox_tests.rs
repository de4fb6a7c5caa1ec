//! The sandbox's escapes and limits, each a test, against a host that
//! answers every call with its own path and input.

use super::*;

/// Answers every call with its path and input; records nothing.
struct Echo {
    calls: Vec<String>,
}

impl Host for Echo {
    fn call(&mut self, path: &str, input: &str) -> Result<String, String> {
        self.calls.push(path.to_owned());
        if path == "stop.here" {
            return Err("stopped by the host".to_owned());
        }
        Ok(format!(
            r#"{{"ok":true,"data":{{"path":"{path}","input":{input}}}}}"#
        ))
    }
    fn search(&mut self, query: &str, _: &str) -> String {
        format!(r#"[{{"path":"found.{query}"}}]"#)
    }
    fn describe(&mut self, path: &str) -> String {
        format!(r#"{{"ok":true,"data":{{"path":"{path}"}}}}"#)
    }
    fn now(&mut self) -> Result<f64, String> {
        Ok(1_000.0)
    }
    fn random(&mut self) -> Result<f64, String> {
        Ok(0.25)
    }
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(2),
        memory: 32 * 1024 * 1024,
        stack: 256 * 1024,
        calls: 100,
        output: 1024 * 1024,
    }
}

fn run_js(js: &str) -> (Finished, Vec<String>) {
    let host = Rc::new(RefCell::new(Echo { calls: Vec::new() }));
    let finished = run(js, &limits(), host.clone());
    let calls = host.borrow().calls.clone();
    (finished, calls)
}

fn returned(js: &str) -> Value {
    match run_js(js).0.ending {
        Ending::Returned(json) => serde_json::from_str(&json).unwrap(),
        other => panic!("{js}: {other:?}"),
    }
}

use serde_json::{Value, json};

#[test]
fn a_script_calls_tools_and_returns_what_it_computes() {
    let value = returned(
        "const a = await tools.github.issues.list({ state: 'open' });\n\
         const b = await tools['my-api'].get({});\n\
         console.log('seen', a.data.path);\n\
         return [a.data.path, a.data.input.state, b.data.path];",
    );
    assert_eq!(value, json!(["github.issues.list", "open", "my-api.get"]));
    let (finished, calls) = run_js("console.log('a', {b: 1}); console.warn('c'); return 1;");
    assert_eq!(finished.logs, ["a {\"b\":1}", "warn: c"]);
    assert!(calls.is_empty());
}

#[test]
fn search_describe_time_and_randomness_come_from_the_host() {
    let value = returned(
        "return [await tools.search('x'), (await tools.describe('a.b')).data.path, Date.now(), new Date().getTime(), Math.random()];",
    );
    assert_eq!(
        value,
        json!([[{"path": "found.x"}], "a.b", 1000, 1000, 0.25])
    );
}

#[test]
fn a_loop_forever_is_stopped_at_the_time_limit() {
    let started = Instant::now();
    let (finished, _) = run_js("while (true) {}");
    assert_eq!(finished.ending, Ending::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(4));
    // Catching the interrupt does not help.
    let (finished, _) = run_js("for (;;) { try { while (true) {} } catch (e) {} }");
    assert_eq!(finished.ending, Ending::TimedOut);
}

#[test]
fn an_allocation_bomb_is_stopped_at_the_memory_limit() {
    let (finished, _) =
        run_js("const a = []; while (true) a.push('x'.repeat(1 << 20) + a.length);");
    assert_eq!(finished.ending, Ending::OutOfMemory);
}

#[test]
fn deep_recursion_is_stopped_at_the_stack_limit() {
    let (finished, _) = run_js("const f = (n) => f(n + 1) + 1; return f(0);");
    assert_eq!(finished.ending, Ending::StackOverflow);
}

#[test]
fn the_host_is_out_of_reach() {
    let value = returned(
        "return [typeof fetch, typeof require, typeof process, typeof Deno, typeof std, typeof os, \
         typeof XMLHttpRequest, typeof WebSocket, typeof __executor_call, typeof globalThis.__executor_call, \
         Object.keys(globalThis.constructor.constructor('return this')()).filter(k => k.startsWith('__executor_c'))];",
    );
    assert_eq!(
        value,
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            []
        ])
    );
    // `import` is not there either.
    let (finished, _) = run_js("const m = await import('os'); return 1;");
    assert!(
        matches!(finished.ending, Ending::Threw { .. }),
        "{:?}",
        finished.ending
    );
}

#[test]
fn a_stop_from_the_host_ends_the_run_even_if_caught() {
    let (finished, calls) = run_js(
        "try { await tools.stop.here({}); } catch (e) {}\nawait tools.after.stop({});\nreturn 1;",
    );
    assert_eq!(
        finished.ending,
        Ending::Stopped("stopped by the host".to_owned())
    );
    assert_eq!(
        calls,
        ["stop.here"],
        "no call after the stop reaches the host"
    );
}

#[test]
fn throws_rejections_and_timers() {
    match run_js("throw new Error('nope');").0.ending {
        Ending::Threw { message, .. } => assert_eq!(message, "nope"),
        other => panic!("{other:?}"),
    }
    match run_js("await new Promise(() => {});").0.ending {
        Ending::Threw { message, .. } => {
            assert!(message.contains("never settles"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let value = returned(
        "const order = []; setTimeout(() => order.push('late'), 30); setTimeout(() => order.push('soon'), 1);\n\
         await new Promise((r) => setTimeout(r, 60)); return order;",
    );
    assert_eq!(value, json!(["soon", "late"]));
}

#[test]
fn output_over_the_limit_is_refused() {
    let (finished, _) = run_js("return 'x'.repeat(2 * 1024 * 1024);");
    assert_eq!(finished.ending, Ending::OutputTooLarge);
}
