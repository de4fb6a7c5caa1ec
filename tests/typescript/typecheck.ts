// Type-level tests of the generated client (compiled with tsc --strict by
// tests/typescript.rs beside the client generated for tests/fixtures/service/echo.yaml).
// Lines under @ts-expect-error must fail to type-check; every other line must pass.

import {
  createExecutorClient,
  ExecutorPausedError,
  ExecutorRequestError,
  type EchoOrgMainItemsGetItemOutput,
  type ExecutorResult,
  type ExecutorTools,
} from "./echo.gen.js";

const executor = createExecutorClient({ baseUrl: "http://127.0.0.1:1", token: "t" });

export async function correct(): Promise<void> {
  const item = await executor.echo.org.main.items.getItem({ id: 7, tags: ["a"], filter: { color: "red" }, "X-Trace": "t" });
  if (item.ok) {
    const path: string | undefined = item.data.path;
    void path;
  } else {
    const code: string = item.error.code;
    void code;
  }
  await executor.echo.org.main.items.createItem({ name: "n", count: 1, dryRun: false });
  await executor.echo.org.main.things.putThing({ id: "p", body_id: "b" });
  await executor.echo.org.main.uploads.upload({ file: "aGVsbG8=", note: "n" });
  await executor.echo.org.main.fail.fail();
  const typed: ExecutorResult<EchoOrgMainItemsGetItemOutput> = await executor.$call("echo.org.main.items.getItem", { id: 1 });
  void typed;
  const loose = await executor.$call("echo.items.getItem", { id: 1 });
  void loose;
  await executor.resume("exec_123", "decline");
  const input: ExecutorTools["echo.org.main.forms.postForm"]["input"] = { tags: ["x"] };
  void input;
  try {
    await executor.echo.org.main.blobs.getBlob({ name: "b" });
  } catch (e) {
    if (e instanceof ExecutorPausedError) console.log(e.executionId, e.resumePath, e.approvalUrl);
    if (e instanceof ExecutorRequestError) console.log(e.status);
  }
}

export async function wrong(): Promise<void> {
  // @ts-expect-error: id is required
  await executor.echo.org.main.items.getItem({});
  // @ts-expect-error: id is an integer
  await executor.echo.org.main.items.getItem({ id: "7" });
  // @ts-expect-error: no such input
  await executor.echo.org.main.items.getItem({ id: 7, nope: true });
  // @ts-expect-error: name is required
  await executor.echo.org.main.items.createItem({ count: 1 });
  // @ts-expect-error: tags is an array of strings
  await executor.echo.org.main.forms.postForm({ tags: [1] });
  // @ts-expect-error: no such tool
  await executor.echo.org.main.items.nothing({});
  // @ts-expect-error: the typed $call checks the input of a known path
  await executor.$call("echo.org.main.items.getItem", { id: "x" });
  const item = await executor.echo.org.main.items.getItem({ id: 7 });
  // @ts-expect-error: data exists only when ok
  void item.data;
  if (item.ok) {
    // @ts-expect-error: path is a string
    const n: number = item.data.path;
    void n;
  }
  // @ts-expect-error: the action is accept or decline
  await executor.resume("exec_1", "maybe");
}
