// {{ header }}
//
// A dependency-free client for executor. Every call runs through the
// executor service (POST /api/tools/invoke/{tool path}), which attaches the
// stored credentials and applies the tool's policy.
//
//   import { createExecutorClient } from "./executor.gen";
//   const executor = createExecutorClient(); // EXECUTOR_URL, EXECUTOR_API_KEY / EXECUTOR_AUTH_TOKEN
//   const result = await executor.$call("{{ example_path }}", {{ example_input }});
//   if (result.ok) console.log(result.data);
//
// Runs in Node 18+, Deno, Bun and browsers.

/* eslint-disable */
// prettier-ignore

/** Why a tool call did not return data. */
export type ExecutorErrorCode = {{ error_codes }};

/** What went wrong, in a form both people and programs can act on. */
export interface ExecutorToolError {
  code: ExecutorErrorCode;
  /** What happened and how to fix it. */
  message: string;
  /** `execution_paused`: the paused execution, e.g. `exec_123`. */
  executionId?: string;
  /** `execution_paused`: POST here with `{"action": "accept"}` or `{"action": "decline"}` to resume. */
  resumePath?: string;
  /** `execution_paused`: the web page where a person approves or declines the call. */
  approvalUrl?: string;
  /** `upstream_http_error`: the upstream's HTTP status. */
  status?: number;
  /** Anything else that helps: validation problems, candidates, the upstream's body. */
  details?: unknown;
}

/** The result of a tool call. */
export type ExecutorResult<T> = { ok: true; data: T } | { ok: false; error: ExecutorToolError };

/** The call needs a person's approval: approve it at `approvalUrl`, then `resume(executionId, "accept")`. */
export class ExecutorPausedError extends Error {
  readonly executionId: string;
  readonly resumePath: string;
  readonly approvalUrl: string;
  readonly error: ExecutorToolError;
  constructor(error: ExecutorToolError) {
    super(error.message);
    this.name = "ExecutorPausedError";
    this.executionId = error.executionId ?? "";
    this.resumePath = error.resumePath ?? "";
    this.approvalUrl = error.approvalUrl ?? "";
    this.error = error;
  }
}

/** executor could not be reached, or answered something that is not a result. */
export class ExecutorRequestError extends Error {
  readonly status: number | undefined;
  readonly body: string | undefined;
  constructor(message: string, status?: number, body?: string) {
    super(message);
    this.name = "ExecutorRequestError";
    this.status = status;
    this.body = body;
  }
}

/** The subset of `fetch` the client uses, so it loads with any `lib` setting. */
export type ExecutorFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface ExecutorClientOptions {
  /** Default: `EXECUTOR_URL`, else `http://127.0.0.1:4788`. */
  baseUrl?: string;
  /** Default: `EXECUTOR_API_KEY`, else `EXECUTOR_AUTH_TOKEN`. */
  token?: string;
  /** Default: the global `fetch`. */
  fetch?: ExecutorFetch;
  /** Sent with every request. */
  headers?: Record<string, string>;
}

/** An environment variable where there is an environment (Node, Bun, Deno), else undefined. */
function readEnv(name: string): string | undefined {
  try {
    const g = globalThis as {
      process?: { env?: Record<string, string | undefined> };
      Deno?: { env?: { get(key: string): string | undefined } };
    };
    return g.process?.env?.[name] ?? g.Deno?.env?.get(name);
  } catch {
    return undefined;
  }
}

{{ types }}
/** Every tool by its canonical path, with its input and output types. */
export interface ExecutorTools {
{{ tool_map }}}

export type ExecutorToolPath = keyof ExecutorTools;

export function createExecutorClient(options: ExecutorClientOptions = {}) {
  const baseUrl = (options.baseUrl ?? readEnv("EXECUTOR_URL") ?? "http://127.0.0.1:4788").replace(/\/+$/, "");
  const token = options.token ?? readEnv("EXECUTOR_API_KEY") ?? readEnv("EXECUTOR_AUTH_TOKEN");
  const doFetch: ExecutorFetch | undefined = options.fetch ?? (globalThis as { fetch?: ExecutorFetch }).fetch;

  async function post(route: string, body: unknown): Promise<ExecutorResult<unknown>> {
    if (!doFetch) throw new ExecutorRequestError("no fetch: pass options.fetch where there is no global fetch");
    const headers: Record<string, string> = { "content-type": "application/json", ...(options.headers ?? {}) };
    if (token) headers["authorization"] = `Bearer ${token}`;
    let status: number;
    let text: string;
    try {
      const response = await doFetch(baseUrl + route, { method: "POST", headers, body: JSON.stringify(body) });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      throw new ExecutorRequestError(`cannot reach executor at ${baseUrl}: ${String(cause)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ExecutorRequestError(`executor answered ${status} with something that is not JSON`, status, text);
    }
    const envelope = parsed as ExecutorResult<unknown>;
    if (typeof envelope !== "object" || envelope === null || typeof envelope.ok !== "boolean") {
      throw new ExecutorRequestError(`executor answered ${status} with something that is not a result`, status, text);
    }
    if (!envelope.ok && (envelope.error.code === "unauthorized" || status === 401 || status === 403)) {
      throw new ExecutorRequestError(envelope.error.message, status, text);
    }
    if (!envelope.ok && envelope.error.code === "execution_paused") throw new ExecutorPausedError(envelope.error);
    return envelope;
  }

  /** Runs any tool by path: typed for canonical paths, `unknown` for others (short paths). */
  function $call<P extends string>(
    path: P,
    input: P extends ExecutorToolPath ? ExecutorTools[P]["input"] : unknown,
  ): Promise<ExecutorResult<P extends ExecutorToolPath ? ExecutorTools[P]["output"] : unknown>> {
    return post(`/api/tools/invoke/${path}`, input ?? {}) as Promise<
      ExecutorResult<P extends ExecutorToolPath ? ExecutorTools[P]["output"] : unknown>
    >;
  }

  /** Resumes a paused execution once a person has approved (or declined) it. */
  function resume(executionId: string, action: "accept" | "decline" = "accept"): Promise<ExecutorResult<unknown>> {
    return post(`/api/executions/${encodeURIComponent(executionId)}/resume`, { action });
  }

  const call = <P extends ExecutorToolPath>(path: P, input: ExecutorTools[P]["input"]) =>
    post(`/api/tools/invoke/${path}`, input ?? {}) as Promise<ExecutorResult<ExecutorTools[P]["output"]>>;

  return {
    $call,
    resume,
{{ tree }}  };
}

export type ExecutorClient = ReturnType<typeof createExecutorClient>;
