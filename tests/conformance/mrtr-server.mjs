// An upstream MCP server that speaks the 2026-07-28 revision, for the
// conformance suite's multi-round-trip scenarios (SEP-2322,
// `input-required-result-*`). Those scenarios call tools and a prompt that
// answer with an `InputRequiredResult` and take the client's
// `inputResponses` and echoed `requestState` on the retry. A server of an
// older revision cannot answer so, so the main fixture (SDK 1.x, 2025-11-25)
// cannot stand in: this one is the TypeScript SDK v2
// (`@modelcontextprotocol/server`), which serves both eras over stdio, and
// executor adds it as the MCP source `mrtr` and forwards the rounds.
//
// The tools follow the scenario texts of @modelcontextprotocol/conformance
// 0.2.0-alpha.12 and the suite's own reference server (everything-server.ts):
// the same input keys, and an HMAC-sealed `requestState` for the tamper test.
//
// Usage: node mrtr-server.mjs   (stdio)

import { createHmac, randomUUID } from 'node:crypto';
import { MissingRequiredClientCapabilityError, ProtocolError, Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const SECRET = `mrtr-fixture-${randomUUID()}`;

function seal(payload) {
  const data = JSON.stringify(payload);
  const mac = createHmac('sha256', SECRET).update(data).digest('hex');
  return JSON.stringify({ data, mac });
}

function unseal(raw) {
  try {
    const { data, mac } = JSON.parse(raw);
    const expected = createHmac('sha256', SECRET).update(data).digest('hex');
    return mac === expected ? JSON.parse(data) : null;
  } catch {
    return null;
  }
}

const elicit = (message, property, type = 'string') => ({
  method: 'elicitation/create',
  params: {
    message,
    requestedSchema: {
      type: 'object',
      properties: { [property]: { type } },
      required: [property]
    }
  }
});

const sample = (text, maxTokens) => ({
  method: 'sampling/createMessage',
  params: {
    messages: [{ role: 'user', content: { type: 'text', text } }],
    maxTokens
  }
});

const roots = { method: 'roots/list', params: {} };

const text = (t) => ({ content: [{ type: 'text', text: t }] });

const needs = (inputRequests, requestState) => ({
  resultType: 'input_required',
  inputRequests,
  ...(requestState === undefined ? {} : { requestState })
});

/** An accepted elicitation's field, if the response is one. */
function field(response, name) {
  if (!response || typeof response !== 'object' || response.action !== 'accept') return undefined;
  const value = response.content?.[name];
  return value === undefined ? undefined : value;
}

/** The inputs of a retry, after a shape check: a response must be an object. */
function inputsOf(ctx) {
  const inputs = ctx.mcpReq.inputResponses;
  if (inputs === undefined) return {};
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new ProtocolError(-32602, 'inputResponses must be an object keyed by input request');
  }
  for (const [key, value] of Object.entries(inputs)) {
    if (value === null || typeof value !== 'object') {
      throw new ProtocolError(-32602, `inputResponses.${key} must be an object`);
    }
  }
  return inputs;
}

const stateOf = (ctx) => {
  const raw = ctx.mcpReq.requestState?.();
  return typeof raw === 'string' ? raw : undefined;
};

const inFlight = { now: 0, most: 0 };

const declared = (ctx) => {
  const envelope = ctx.mcpReq.envelope ?? {};
  return envelope.clientCapabilities ?? envelope['io.modelcontextprotocol/clientCapabilities'] ?? {};
};

// Each tool's handler gets the request context; what it throws is a
// JSON-RPC error (the low-level server is used, not McpServer, which turns
// a tool's exceptions into `isError` results).
const tools = {
  test_input_required_result_elicitation: ['MRTR: asks for a name by elicitation', (ctx) => {
    const inputs = inputsOf(ctx);
    const name = field(inputs.user_name, 'name');
    if (typeof name === 'string') return text(`Hello, ${name}!`);
    return needs({ user_name: elicit('What is your name?', 'name') });
  }],

  test_input_required_result_sampling: ['MRTR: asks the client to sample', (ctx) => {
    const answer = inputsOf(ctx).capital_question;
    if (answer) {
      const said = typeof answer.content?.text === 'string' ? answer.content.text : 'no response';
      return text(`Sampling result: ${said}`);
    }
    return needs({ capital_question: sample('What is the capital of France?', 100) });
  }],

  test_input_required_result_list_roots: ["MRTR: asks for the client's roots", (ctx) => {
    const answer = inputsOf(ctx).client_roots;
    if (answer) {
      const list = Array.isArray(answer.roots) ? answer.roots : [];
      return text(`Found ${list.length} root(s): ${list.map((r) => r.uri).join(', ')}`);
    }
    return needs({ client_roots: roots });
  }],

  test_input_required_result_request_state: ['MRTR: round-trips a requestState', (ctx) => {
    const inputs = inputsOf(ctx);
    const state = stateOf(ctx);
    if (state !== undefined && inputs.confirm) {
      const verified = unseal(state);
      if (verified?.kind === 'request-state' && field(inputs.confirm, 'ok') === true) {
        return text('state-ok: requestState validated');
      }
    }
    return needs(
      { confirm: elicit('Please confirm', 'ok', 'boolean') },
      seal({ kind: 'request-state', nonce: randomUUID() })
    );
  }],

  test_input_required_result_multiple_inputs: ['MRTR: three input requests at once', (ctx) => {
    const inputs = inputsOf(ctx);
    const state = stateOf(ctx);
    if (state !== undefined && inputs.user_name && inputs.greeting && inputs.client_roots) {
      const verified = unseal(state);
      if (verified?.kind === 'multiple-inputs') {
        const name = field(inputs.user_name, 'name') ?? 'unknown';
        const greeting = inputs.greeting.content?.text ?? 'Hello there!';
        const count = Array.isArray(inputs.client_roots.roots) ? inputs.client_roots.roots.length : 0;
        return text(`Name: ${name}; Greeting: ${greeting}; Roots: ${count}`);
      }
    }
    return needs(
      {
        user_name: elicit('What is your name?', 'name'),
        greeting: sample('Generate a greeting', 50),
        client_roots: roots
      },
      seal({ kind: 'multiple-inputs', nonce: randomUUID() })
    );
  }],

  test_input_required_result_multi_round: ['MRTR: two rounds, the state evolving', (ctx) => {
    const inputs = inputsOf(ctx);
    const state = stateOf(ctx);
    const verified = state === undefined ? null : unseal(state);
    if (verified?.round === 1 && inputs.step1) {
      const name = field(inputs.step1, 'name') ?? 'friend';
      return needs(
        { step2: elicit('Step 2: What is your favorite color?', 'color') },
        seal({ round: 2, name, nonce: randomUUID() })
      );
    }
    if (verified?.round === 2 && inputs.step2) {
      const color = field(inputs.step2, 'color') ?? 'unknown';
      return text(`Multi-round complete for ${verified.name} who likes ${color}`);
    }
    return needs({ step1: elicit('Step 1: What is your name?', 'name') }, seal({ round: 1, nonce: randomUUID() }));
  }],

  test_input_required_result_tampered_state: ['MRTR: refuses a requestState that fails its HMAC', (ctx) => {
    const inputs = inputsOf(ctx);
    const state = stateOf(ctx);
    if (state !== undefined) {
      const verified = unseal(state);
      if (!verified) throw new ProtocolError(-32602, 'requestState integrity check failed');
      if (verified.kind === 'tamper-test' && inputs.confirm) return text('integrity-ok: state verified');
    }
    return needs(
      { confirm: elicit('Please confirm', 'ok', 'boolean') },
      seal({ kind: 'tamper-test', nonce: randomUUID() })
    );
  }],

  test_input_required_result_capabilities: ["MRTR: asks only for what the request's client capabilities declare", (ctx) => {
    const inputs = inputsOf(ctx);
    if (Object.keys(inputs).length > 0) return text(`Answered: ${Object.keys(inputs).sort().join(', ')}`);
    const caps = declared(ctx);
    const requests = {};
    if (caps.elicitation) requests.elicit_input = elicit('Elicitation input', 'value');
    if (caps.sampling) requests.sample_input = sample('Sample request', 50);
    if (Object.keys(requests).length === 0) return text('The client declared neither elicitation nor sampling');
    return needs(requests);
  }],

  // For executor's own tests: a slow call that says how many calls were
  // in flight at once here.
  test_slow: ['Waits 300 ms; answers with the most calls in flight at once', async () => {
    inFlight.now += 1;
    inFlight.most = Math.max(inFlight.most, inFlight.now);
    await new Promise((resolve) => setTimeout(resolve, 300));
    inFlight.now -= 1;
    return text(`most in flight: ${inFlight.most}`);
  }],

  // The diagnostic tools of the `server-stateless` scenario (SEP-2575).
  test_missing_capability: ['Needs sampling: refused with -32021 when the request does not declare it', (ctx) => {
    if (!declared(ctx).sampling) {
      throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } });
    }
    return text('Success');
  }],

  test_streaming_elicitation: ['Asks by an input-required round, never by a request on the stream', (ctx) => {
    if (inputsOf(ctx).confirm) return text('confirmed');
    return needs({ confirm: elicit('Please confirm', 'ok', 'boolean') });
  }],

  test_logging_tool: ['Logs only when the request asks for a log level', async (ctx) => {
    await ctx.mcpReq.log('info', 'a log message from test_logging_tool');
    return text('logged');
  }]
};

const PROMPT = 'test_input_required_result_prompt';

function build() {
  const server = new Server(
    { name: 'executor-mrtr-fixture', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, prompts: {}, logging: {} } }
  );
  // The diagnostic hook of `server-stateless` for list changes: a new tool,
  // announced on the client's `subscriptions/listen` stream.
  tools.test_trigger_tool_change = ['Adds a tool and announces the changed tool list', async () => {
    const name = `test_added_tool_${Object.keys(tools).length}`;
    tools[name] = ['A tool added by test_trigger_tool_change', () => text('added')];
    await server.sendToolListChanged();
    return text(`added ${name}`);
  }];
  server.setRequestHandler('tools/list', () => ({
    tools: Object.entries(tools).map(([name, [description]]) => ({
      name,
      description,
      inputSchema: { type: 'object', properties: {} }
    }))
  }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const entry = tools[request.params.name];
    if (!entry) throw new ProtocolError(-32602, `unknown tool: ${request.params.name}`);
    return entry[1](ctx);
  });
  server.setRequestHandler('prompts/list', () => ({
    prompts: [{ name: PROMPT, description: 'MRTR: a prompt that asks for its context first' }]
  }));
  server.setRequestHandler('prompts/get', async (request, ctx) => {
    if (request.params.name !== PROMPT) throw new ProtocolError(-32602, `unknown prompt: ${request.params.name}`);
    const context = field(inputsOf(ctx).user_context, 'context');
    if (typeof context === 'string') {
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${context}` } }] };
    }
    return needs({ user_context: elicit('What context should the prompt use?', 'context') });
  });
  return server;
}

serveStdio(build);
