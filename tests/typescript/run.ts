// Runs the generated client against a live executor service (started by
// tests/typescript.rs) and prints what happened as JSON, one line.
import { createExecutorClient, ExecutorRequestError } from "./echo.gen.js";

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

console.log(JSON.stringify(out));
