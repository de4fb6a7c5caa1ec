//! One script in QuickJS (through rquickjs, QuickJS compiled from source):
//! a fresh runtime and context per run, on the caller's thread, which is
//! one of code mode's own threads and never an async worker.
//!
//! The script sees the globals of `prelude.js` and nothing else of the
//! host: QuickJS itself has no network, files, process or environment, and
//! the only host functions are the ones set here, each going through
//! [`Host`]. Limits: wall time (the interrupt handler, checked while the
//! script runs, and every host call's own remaining time), memory
//! (QuickJS's allocator limit), stack (QuickJS's stack limit) and output.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Context, Ctx, Exception, Function, Object, Promise, Runtime};

const PRELUDE: &str = include_str!("prelude.js");

/// The limits of one run.
#[derive(Debug, Clone)]
pub struct Limits {
    pub wall: Duration,
    pub memory: usize,
    pub stack: usize,
    /// Tool calls per run (replayed ones count).
    pub calls: usize,
    /// Bytes of the result's JSON and of the logs together.
    pub output: usize,
}

/// What a script may ask of executor.
pub trait Host {
    /// A tool call: the envelope as JSON text, or `Err` with why the run
    /// must stop now (it paused, or hit a limit the host keeps).
    fn call(&mut self, path: &str, input: &str) -> Result<String, String>;
    /// `tools.search(query, options)`: JSON text.
    fn search(&mut self, query: &str, options: &str) -> String;
    /// `tools.describe(path)`: JSON text.
    fn describe(&mut self, path: &str) -> String;
    /// `Date.now()`, recorded.
    fn now(&mut self) -> Result<f64, String>;
    /// `Math.random()`, recorded.
    fn random(&mut self) -> Result<f64, String>;
}

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum Ending {
    /// The script returned; its value as JSON text.
    Returned(String),
    /// The script threw (or its promise rejected, or never settled).
    Threw {
        message: String,
        stack: Option<String>,
    },
    /// The host stopped it (see [`Host::call`]).
    Stopped(String),
    TimedOut,
    OutOfMemory,
    StackOverflow,
    OutputTooLarge,
}

#[derive(Debug)]
pub struct Finished {
    pub ending: Ending,
    /// `console.*` lines, `level: text`.
    pub logs: Vec<String>,
    /// Log lines left out because the output limit was reached.
    pub logs_cut: usize,
}

#[derive(Default)]
struct Logs {
    lines: Vec<String>,
    bytes: usize,
    cut: usize,
}

/// Runs `js` (already plain JavaScript: the body of an async function).
pub fn run(js: &str, limits: &Limits, host: Rc<RefCell<dyn Host>>) -> Finished {
    let logs = Rc::new(RefCell::new(Logs::default()));
    let ending = match run_in_quickjs(js, limits, host, logs.clone()) {
        Ok(ending) => ending,
        Err(e) => Ending::Threw {
            message: format!("the sandbox could not start: {e}"),
            stack: None,
        },
    };
    let logs = std::mem::take(&mut *logs.borrow_mut());
    let ending = match ending {
        Ending::Returned(json) if json.len() + logs.bytes > limits.output => Ending::OutputTooLarge,
        other => other,
    };
    Finished {
        ending,
        logs: logs.lines,
        logs_cut: logs.cut,
    }
}

fn run_in_quickjs(
    js: &str,
    limits: &Limits,
    host: Rc<RefCell<dyn Host>>,
    logs: Rc<RefCell<Logs>>,
) -> rquickjs::Result<Ending> {
    let runtime = Runtime::new()?;
    runtime.set_memory_limit(limits.memory);
    runtime.set_max_stack_size(limits.stack);
    let started = Instant::now();
    let deadline = started + limits.wall;
    let timed_out = Rc::new(Cell::new(false));
    let stopped: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
    {
        let timed_out = timed_out.clone();
        let stopped = stopped.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            if stopped.borrow().is_some() {
                return true;
            }
            if Instant::now() >= deadline {
                timed_out.set(true);
                return true;
            }
            false
        })));
    }
    let context = Context::full(&runtime)?;
    let output_limit = limits.output;
    context.with(|ctx| {
        let globals = ctx.globals();
        install_host(
            &ctx,
            &globals,
            &host,
            &stopped,
            &logs,
            output_limit,
            started,
        )?;
        if let Err(e) = ctx.eval::<(), _>(PRELUDE) {
            return Ok(threw(&ctx, e, &timed_out));
        }
        let wrapped = format!("(async () => {{\n{js}\n}})().then(__executor_result)");
        let promise: Promise = match ctx.eval(wrapped) {
            Ok(promise) => promise,
            Err(e) => return Ok(threw(&ctx, e, &timed_out)),
        };
        loop {
            if let Some(reason) = stopped.borrow_mut().take() {
                return Ok(Ending::Stopped(reason));
            }
            if timed_out.get() {
                return Ok(Ending::TimedOut);
            }
            match promise.result::<String>() {
                Some(Ok(json)) => return Ok(Ending::Returned(json)),
                Some(Err(e)) => {
                    if let Some(reason) = stopped.borrow_mut().take() {
                        return Ok(Ending::Stopped(reason));
                    }
                    return Ok(threw(&ctx, e, &timed_out));
                }
                None => {}
            }
            if ctx.execute_pending_job() {
                continue;
            }
            // Nothing left to run but timers: wait for the next one.
            let next: Function = globals.get("__executor_next_timer")?;
            let wait: f64 = next.call(())?;
            if wait < 0.0 {
                return Ok(Ending::Threw {
                    message:
                        "the script awaits something that never settles (a promise nobody resolves)"
                            .to_owned(),
                    stack: None,
                });
            }
            let wait = Duration::from_millis(wait.ceil() as u64);
            let left = deadline.saturating_duration_since(Instant::now());
            if wait >= left {
                std::thread::sleep(left);
                return Ok(Ending::TimedOut);
            }
            std::thread::sleep(wait);
            let fire: Function = globals.get("__executor_fire_timer")?;
            if let Err(e) = fire.call::<_, ()>(()) {
                if let Some(reason) = stopped.borrow_mut().take() {
                    return Ok(Ending::Stopped(reason));
                }
                return Ok(threw(&ctx, e, &timed_out));
            }
        }
    })
}

/// The host functions the prelude takes in.
fn install_host<'js>(
    ctx: &Ctx<'js>,
    globals: &Object<'js>,
    host: &Rc<RefCell<dyn Host>>,
    stopped: &Rc<RefCell<Option<String>>>,
    logs: &Rc<RefCell<Logs>>,
    output_limit: usize,
    started: Instant,
) -> rquickjs::Result<()> {
    // After the host stops a run, every further call fails at once: the
    // script may catch one exception, but it can make no more calls.
    let stop = |ctx: &Ctx<'_>, stopped: &Rc<RefCell<Option<String>>>, reason: String| {
        stopped.borrow_mut().get_or_insert(reason);
        Exception::throw_internal(ctx, "the run stopped")
    };
    {
        let host = host.clone();
        let stopped = stopped.clone();
        globals.set(
            "__executor_call",
            Function::new(
                ctx.clone(),
                move |ctx: Ctx<'js>, path: String, input: String| -> rquickjs::Result<String> {
                    if stopped.borrow().is_some() {
                        return Err(Exception::throw_internal(&ctx, "the run stopped"));
                    }
                    let answer = host.borrow_mut().call(&path, &input);
                    answer.map_err(|reason| stop(&ctx, &stopped, reason))
                },
            )?,
        )?;
    }
    {
        let host = host.clone();
        globals.set(
            "__executor_search",
            Function::new(ctx.clone(), move |query: String, options: String| {
                host.borrow_mut().search(&query, &options)
            })?,
        )?;
    }
    {
        let host = host.clone();
        globals.set(
            "__executor_describe",
            Function::new(ctx.clone(), move |path: String| {
                host.borrow_mut().describe(&path)
            })?,
        )?;
    }
    {
        let host = host.clone();
        let stopped = stopped.clone();
        globals.set(
            "__executor_now",
            Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
                let now = host.borrow_mut().now();
                now.map_err(|reason| stop(&ctx, &stopped, reason))
            })?,
        )?;
    }
    {
        let host = host.clone();
        let stopped = stopped.clone();
        globals.set(
            "__executor_random",
            Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
                let value = host.borrow_mut().random();
                value.map_err(|reason| stop(&ctx, &stopped, reason))
            })?,
        )?;
    }
    globals.set(
        "__executor_clock",
        Function::new(ctx.clone(), move || {
            started.elapsed().as_secs_f64() * 1000.0
        })?,
    )?;
    {
        let logs = logs.clone();
        globals.set(
            "__executor_log",
            Function::new(ctx.clone(), move |level: String, text: String| {
                let mut logs = logs.borrow_mut();
                let line = if level == "log" {
                    text
                } else {
                    format!("{level}: {text}")
                };
                if logs.bytes + line.len() > output_limit / 2 {
                    logs.cut += 1;
                } else {
                    logs.bytes += line.len();
                    logs.lines.push(line);
                }
            })?,
        )?;
    }
    Ok(())
}

/// What a thrown exception (or a failed evaluation) means.
fn threw(ctx: &Ctx<'_>, error: rquickjs::Error, timed_out: &Cell<bool>) -> Ending {
    if timed_out.get() {
        return Ending::TimedOut;
    }
    let (message, stack) = match error {
        rquickjs::Error::Exception => {
            let value = ctx.catch();
            match value.as_exception() {
                Some(exception) => (
                    exception.message().unwrap_or_default(),
                    exception.stack().filter(|s| !s.trim().is_empty()),
                ),
                None => (
                    value
                        .as_string()
                        .and_then(|s| s.to_string().ok())
                        .or_else(|| {
                            ctx.json_stringify(value.clone())
                                .ok()
                                .flatten()
                                .and_then(|s| s.to_string().ok())
                        })
                        .unwrap_or_else(|| "a value that is not an Error".to_owned()),
                    None,
                ),
            }
        }
        other => (other.to_string(), None),
    };
    if message.contains("out of memory") {
        return Ending::OutOfMemory;
    }
    if message.contains("stack overflow") || message.contains("Maximum call stack size exceeded") {
        return Ending::StackOverflow;
    }
    if message == "interrupted" {
        return Ending::TimedOut;
    }
    Ending::Threw { message, stack }
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
