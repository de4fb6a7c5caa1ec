// Runs the generated client against a live executor service (started by
// tests/typescript.rs) and prints what happened as JSON, one line.
import { createExecutorClient, ExecutorPausedError, ExecutorRequestError } from "./echo.gen.js";

const executor = createExecutorClient(); // EXECUTOR_URL and EXECUTOR_API_KEY from the environment
const out: Record<string, unknown> = {};

const item = await executor.echo.org.main.items.getItem({ id: 42, tags: ["x"] });
out.success = item.ok ? { path: item.data.path, query: item.data.query } : item.error;

const bad = await executor.$call("echo.org.main.items.getItem", { id: "nope" } as never);
out.invalid = bad.ok ? "unexpectedly ok" : { code: bad.error.code, message: bad.error.message };

const missing = await executor.$call("echo.nothing.here", {});
out.missing = missing.ok ? "unexpectedly ok" : missing.error.code;

try {
  await createExecutorClient({ baseUrl: "http://127.0.0.1:9", token: "x" }).echo.org.main.fail.fail();
  out.unreachable = "no error";
} catch (e) {
  out.unreachable = e instanceof ExecutorRequestError ? "ExecutorRequestError" : String(e);
}

try {
  await createExecutorClient({ token: "wrong" }).echo.org.main.fail.fail();
  out.badToken = "no error";
} catch (e) {
  out.badToken = e instanceof ExecutorRequestError ? { status: e.status } : String(e);
}

// A write needs approval by default: the client throws, and resuming runs it.
try {
  await executor.echo.org.main.items.createItem({ name: "from-typescript" });
  out.paused = "no pause";
} catch (e) {
  if (!(e instanceof ExecutorPausedError)) throw e;
  out.paused = { executionId: e.executionId, approvalUrl: e.approvalUrl, resumePath: e.resumePath };
  const resumed = await executor.resume(e.executionId, "accept");
  out.resumed = resumed.ok ? { ok: true, body: (resumed.data as { body: string }).body } : resumed.error;
}

console.log(JSON.stringify(out));
