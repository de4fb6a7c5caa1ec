// The globals a code-mode script sees, set up before it runs. The host
// functions (__executor_*) are taken into this closure and deleted from the
// global object: a script reaches executor only through `tools` and
// `console`. Nothing here reaches the network, files, the process or the
// environment: QuickJS has none of them, and none is given.
"use strict";
(() => {
  const g = globalThis;
  const call = g.__executor_call;
  const search = g.__executor_search;
  const describe = g.__executor_describe;
  const log = g.__executor_log;
  const now = g.__executor_now;
  const random = g.__executor_random;
  const clock = g.__executor_clock;
  for (const name of [
    "__executor_call",
    "__executor_search",
    "__executor_describe",
    "__executor_log",
    "__executor_now",
    "__executor_random",
    "__executor_clock",
  ]) {
    delete g[name];
  }

  const text = (value) => {
    if (typeof value === "string") return value;
    try {
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch {
      return String(value);
    }
  };

  // tools.<segments>(input): the segments make the tool's path, canonical
  // or short; tools.search and tools.describe are the two helpers.
  const tool = (path) =>
    new Proxy(function () {}, {
      get(_, key) {
        if (typeof key !== "string" || key === "then") return undefined;
        return tool(path === "" ? key : path + "." + key);
      },
      apply(_, __, args) {
        if (path === "search") {
          const options = args[1] === undefined ? {} : args[1];
          return Promise.resolve(
            JSON.parse(search(String(args[0] ?? ""), JSON.stringify(options))),
          );
        }
        if (path === "describe") {
          return Promise.resolve(JSON.parse(describe(String(args[0] ?? ""))));
        }
        if (path === "") throw new TypeError("tools(...) needs a tool path: tools.<integration>.<...>.<tool>(input)");
        const input = args[0] === undefined ? {} : args[0];
        return Promise.resolve(JSON.parse(call(path, JSON.stringify(input))));
      },
    });
  Object.defineProperty(g, "tools", { value: tool(""), enumerable: true });

  const write = (level) => (...values) => log(level, values.map(text).join(" "));
  g.console = {
    log: write("log"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    debug: write("debug"),
  };

  // Time and randomness are recorded, so that a run replayed after an
  // approval sees what it saw the first time.
  const RealDate = Date;
  class RecordedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static now() {
      return now();
    }
  }
  g.Date = RecordedDate;
  Math.random = () => random();

  // setTimeout: the callback runs after its delay, within the run's time
  // limit; the host waits only when nothing else is left to run.
  const timers = [];
  let next = 0;
  g.setTimeout = (callback, delay = 0, ...args) => {
    if (typeof callback !== "function") throw new TypeError("setTimeout takes a function");
    const id = ++next;
    timers.push({ id, due: clock() + Math.max(0, Number(delay) || 0), callback, args });
    return id;
  };
  g.clearTimeout = (id) => {
    const at = timers.findIndex((t) => t.id === id);
    if (at >= 0) timers.splice(at, 1);
  };
  const earliest = () => {
    let best = -1;
    for (let i = 0; i < timers.length; i++) {
      if (best < 0 || timers[i].due < timers[best].due) best = i;
    }
    return best;
  };
  g.__executor_next_timer = () => {
    const at = earliest();
    return at < 0 ? -1 : Math.max(0, timers[at].due - clock());
  };
  g.__executor_fire_timer = () => {
    const at = earliest();
    if (at < 0) return;
    const [timer] = timers.splice(at, 1);
    timer.callback(...timer.args);
  };
  g.__executor_result = (value) => {
    const json = JSON.stringify(value === undefined ? null : value);
    return json === undefined ? "null" : json;
  };
})();
