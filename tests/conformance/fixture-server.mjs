// The upstream MCP server behind executor in the conformance run: over
// stdio, it exposes exactly the tools, resources, prompts and completions that
// the server scenarios of @modelcontextprotocol/conformance 0.1.16 call, with
// the behaviour each scenario checks (see SCENARIOS.md). Written with the
// official SDK's low-level `Server` so every schema goes out byte for byte as
// written here (the json-schema-2020-12 scenario checks `$schema`, `$defs`
// and `additionalProperties` survive).
//
// `node fixture-server.mjs` serves stdio (how executor runs it);
// `node fixture-server.mjs --http` serves streamable HTTP on 127.0.0.1 (port
// from FIXTURE_PORT, default 0) and prints `listening <url>` on stdout: run.sh
// uses it for the baseline run of the suite straight against the fixture, so
// a scenario that fails only through executor is executor's doing.
//
// Logs go to stderr: in stdio mode stdout is the protocol channel.
import { randomUUID } from "node:crypto";
import http from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ErrorCode,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";

// A 1x1 red PNG.
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

// A 10 ms mono 8 kHz 8-bit PCM WAV of silence.
function wav() {
  const samples = 80;
  const b = Buffer.alloc(44 + samples, 0x80);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + samples, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // channels
  b.writeUInt32LE(8000, 24); // sample rate
  b.writeUInt32LE(8000, 28); // byte rate
  b.writeUInt16LE(1, 32); // block align
  b.writeUInt16LE(8, 34); // bits per sample
  b.write("data", 36, "ascii");
  b.writeUInt32LE(samples, 40);
  return b.toString("base64");
}
const WAV = wav();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const noArgs = { type: "object", properties: {}, additionalProperties: false };
const text = (t) => ({ type: "text", text: t });
// Over HTTP, requests and notifications a tool sends must name the request
// they belong to, so they travel on that request's SSE stream.
const related = (extra) => ({ signal: extra.signal, relatedRequestId: extra.requestId });
// An info log notification tied to the running request (sendLoggingMessage
// would go to the standalone stream), unless the client set a higher level.
const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
async function log(extra, data, level = "info") {
  const min = extra.server.minLevel?.get(extra.sessionId);
  if (min && LEVELS.indexOf(level) < LEVELS.indexOf(min)) return;
  await extra.sendNotification({ method: "notifications/message", params: { level, logger: "fixture", data } });
}

// name -> { description, inputSchema, run(args, extra) }
const tools = {
  test_simple_text: {
    description: "Returns one text block",
    inputSchema: noArgs,
    run: async () => ({ content: [text("This is a simple text response for testing.")] }),
  },
  test_image_content: {
    description: "Returns one image block (a 1x1 red PNG)",
    inputSchema: noArgs,
    run: async () => ({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] }),
  },
  test_audio_content: {
    description: "Returns one audio block (a short WAV)",
    inputSchema: noArgs,
    run: async () => ({ content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] }),
  },
  test_embedded_resource: {
    description: "Returns one embedded text resource",
    inputSchema: noArgs,
    run: async () => ({
      content: [
        {
          type: "resource",
          resource: {
            uri: "test://embedded-resource",
            mimeType: "text/plain",
            text: "This is an embedded resource content.",
          },
        },
      ],
    }),
  },
  test_multiple_content_types: {
    description: "Returns text, image and embedded resource blocks",
    inputSchema: noArgs,
    run: async () => ({
      content: [
        text("Multiple content types test:"),
        { type: "image", data: PNG, mimeType: "image/png" },
        {
          type: "resource",
          resource: {
            uri: "test://mixed-content-resource",
            mimeType: "application/json",
            text: JSON.stringify({ test: "data", value: 123 }),
          },
        },
      ],
    }),
  },
  test_tool_with_logging: {
    description: "Sends three info log notifications while it runs",
    inputSchema: noArgs,
    run: async (_args, extra) => {
      await log(extra, "Tool execution started");
      await sleep(50);
      await log(extra, "Tool processing data");
      await sleep(50);
      await log(extra, "Tool execution completed");
      return { content: [text("Tool with logging executed successfully")] };
    },
  },
  test_tool_with_progress: {
    description: "Reports progress 0, 50, 100 of 100 when given a progress token",
    inputSchema: noArgs,
    run: async (_args, extra) => {
      const token = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress, total: 100, message: `${progress}%` },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return { content: [text(`Progress reported (token: ${token ?? "none"})`)] };
    },
  },
  test_error_handling: {
    description: "Always fails with isError: true",
    inputSchema: noArgs,
    run: async () => ({
      isError: true,
      content: [text("This tool intentionally returns an error for testing")],
    }),
  },
  test_sampling: {
    description: "Asks the client's LLM (sampling/createMessage) and returns its answer",
    inputSchema: {
      type: "object",
      properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } },
      required: ["prompt"],
    },
    run: async ({ prompt }, { server, ...extra }) => {
      const result = await server.createMessage(
        { messages: [{ role: "user", content: text(String(prompt)) }], maxTokens: 100 },
        related(extra),
      );
      const answer = result.content?.type === "text" ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${answer}`)] };
    },
  },
  test_elicitation: {
    description: "Asks the user (elicitation/create) for a username and email",
    inputSchema: {
      type: "object",
      properties: { message: { type: "string", description: "The message to show the user" } },
      required: ["message"],
    },
    run: async ({ message }, { server, ...extra }) => {
      const result = await server.elicitInput(
        {
          message: String(message),
          requestedSchema: {
            type: "object",
            properties: {
              username: { type: "string", description: "User's response" },
              email: { type: "string", description: "User's email address" },
            },
            required: ["username", "email"],
          },
        },
        related(extra),
      );
      return {
        content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)],
      };
    },
  },
  test_elicitation_sep1034_defaults: {
    description: "Elicitation whose schema has a default for every primitive type (SEP-1034)",
    inputSchema: noArgs,
    run: async (_args, { server, ...extra }) => {
      const result = await server.elicitInput(
        {
          message: "Please review the defaults",
          requestedSchema: {
            type: "object",
            properties: {
              name: { type: "string", description: "Name", default: "John Doe" },
              age: { type: "integer", description: "Age", default: 30 },
              score: { type: "number", description: "Score", default: 95.5 },
              status: {
                type: "string",
                description: "Status",
                enum: ["active", "inactive", "pending"],
                default: "active",
              },
              verified: { type: "boolean", description: "Verified", default: true },
            },
          },
        },
        related(extra),
      );
      return {
        content: [
          text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    },
  },
  test_elicitation_sep1330_enums: {
    description: "Elicitation with the five enum shapes of SEP-1330",
    inputSchema: noArgs,
    run: async (_args, { server, ...extra }) => {
      const result = await server.elicitInput(
        {
          message: "Please pick options",
          requestedSchema: {
            type: "object",
            properties: {
              untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
              titledSingle: {
                type: "string",
                oneOf: [
                  { const: "value1", title: "First Option" },
                  { const: "value2", title: "Second Option" },
                  { const: "value3", title: "Third Option" },
                ],
              },
              legacyEnum: {
                type: "string",
                enum: ["opt1", "opt2", "opt3"],
                enumNames: ["Option One", "Option Two", "Option Three"],
              },
              untitledMulti: {
                type: "array",
                items: { type: "string", enum: ["option1", "option2", "option3"] },
              },
              titledMulti: {
                type: "array",
                items: {
                  anyOf: [
                    { const: "value1", title: "First Choice" },
                    { const: "value2", title: "Second Choice" },
                    { const: "value3", title: "Third Choice" },
                  ],
                },
              },
            },
          },
        },
        related(extra),
      );
      return {
        content: [
          text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    },
  },
  json_schema_2020_12_tool: {
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: {
          type: "object",
          properties: { street: { type: "string" }, city: { type: "string" } },
        },
      },
      properties: {
        name: { type: "string" },
        address: { $ref: "#/$defs/address" },
      },
      additionalProperties: false,
    },
    run: async (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  },
  // server-sse-polling (SEP-1699) wants a tool whose HTTP server closes the
  // SSE stream mid-call. That is the transport's job, not the tool's: over
  // stdio there is no stream to close, and the scenario sends
  // `mcp-protocol-version: 2025-03-26`, for which the SDK's HTTP transport
  // never closes streams early. So this one just answers late; the scenario
  // reports INFO/WARNING, never FAILURE, for it.
  test_reconnection: {
    description: "Answers after a short delay (closing the SSE stream of SEP-1699 is the HTTP transport's job)",
    inputSchema: noArgs,
    run: async () => {
      await sleep(100);
      return { content: [text("Reconnection test completed")] };
    },
  },
};

const resources = [
  {
    uri: "test://static-text",
    name: "static-text",
    description: "A static text resource",
    mimeType: "text/plain",
    read: () => ({ text: "This is the content of the static text resource." }),
  },
  {
    uri: "test://static-binary",
    name: "static-binary",
    description: "A static binary resource (a 1x1 red PNG)",
    mimeType: "image/png",
    read: () => ({ blob: PNG }),
  },
  {
    uri: "test://watched-resource",
    name: "watched-resource",
    description: "A resource clients can subscribe to",
    mimeType: "text/plain",
    read: () => ({ text: "Watched resource content." }),
  },
];
const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

const prompts = {
  test_simple_prompt: {
    description: "A prompt without arguments",
    arguments: [],
    get: () => [{ role: "user", content: text("This is a simple prompt for testing.") }],
  },
  test_prompt_with_arguments: {
    description: "A prompt with two required arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
    get: (a) => [{ role: "user", content: text(`Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'`) }],
  },
  test_prompt_with_embedded_resource: {
    description: "A prompt that embeds a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
    get: (a) => [
      {
        role: "user",
        content: {
          type: "resource",
          resource: { uri: a.resourceUri, mimeType: "text/plain", text: "Embedded resource content for testing." },
        },
      },
      { role: "user", content: text("Please process the embedded resource above.") },
    ],
  },
  test_prompt_with_image: {
    description: "A prompt with an image",
    arguments: [],
    get: () => [
      { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
      { role: "user", content: text("Please analyze the image above.") },
    ],
  },
};

function buildServer() {
  const server = new Server(
    { name: "conformance-fixture", version: "1.0.0" },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        prompts: { listChanged: false },
        logging: {},
        completions: {},
      },
    },
  );

  server.minLevel = new Map(); // session id (undefined on stdio) -> level
  server.setRequestHandler(SetLevelRequestSchema, async (request, extra) => {
    server.minLevel.set(extra.sessionId, request.params.level);
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: Object.entries(tools).map(([name, t]) => ({ name, description: t.description, inputSchema: t.inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = tools[request.params.name];
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool: ${request.params.name}`);
    try {
      return await tool.run(request.params.arguments ?? {}, { ...extra, _meta: request.params._meta, server });
    } catch (e) {
      return { isError: true, content: [text(`${request.params.name} failed: ${e instanceof Error ? e.message : e}`)] };
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: resources.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: "test://template/{id}/data",
        name: "template-data",
        description: "Data for an id",
        mimeType: "application/json",
      },
    ],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    const found = resources.find((r) => r.uri === uri);
    if (found) return { contents: [{ uri, mimeType: found.mimeType, ...found.read() }] };
    const m = TEMPLATE.exec(uri);
    if (m) {
      const id = decodeURIComponent(m[1]);
      return {
        contents: [
          {
            uri,
            mimeType: "application/json",
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      };
    }
    throw new McpError(-32002, `resource not found: ${uri}`, { uri });
  });

  const subscriptions = new Set();
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: Object.entries(prompts).map(([name, p]) => ({ name, description: p.description, arguments: p.arguments })),
  }));

  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    const prompt = prompts[request.params.name];
    if (!prompt) throw new McpError(ErrorCode.InvalidParams, `unknown prompt: ${request.params.name}`);
    const args = request.params.arguments ?? {};
    for (const a of prompt.arguments) {
      if (a.required && args[a.name] === undefined) {
        throw new McpError(ErrorCode.InvalidParams, `missing argument ${a.name}`);
      }
    }
    return { description: prompt.description, messages: prompt.get(args) };
  });

  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const value = String(request.params.argument?.value ?? "");
    const candidates = ["paris", "park", "party", "test", "testing"];
    const values = candidates.filter((c) => c.startsWith(value));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

async function serveHttp() {
  const transports = new Map(); // session id -> transport
  const httpServer = http.createServer(async (req, res) => {
    try {
      if (!req.url?.startsWith("/mcp")) {
        res.writeHead(404).end();
        return;
      }
      const sessionId = req.headers["mcp-session-id"];
      let transport = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId !== undefined || req.method !== "POST") {
          res.writeHead(sessionId !== undefined ? 404 : 400, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "no such session" } }));
          return;
        }
        const port = httpServer.address().port;
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => transports.set(id, transport),
          enableDnsRebindingProtection: true,
          allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`],
          allowedOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
        });
        transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
        await buildServer().connect(transport);
      }
      await transport.handleRequest(req, res);
    } catch (e) {
      console.error("fixture:", e);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  await new Promise((resolve) => httpServer.listen(Number(process.env.FIXTURE_PORT ?? 0), "127.0.0.1", resolve));
  console.log(`listening http://127.0.0.1:${httpServer.address().port}/mcp`);
}

if (process.argv.includes("--http")) {
  await serveHttp();
} else {
  await buildServer().connect(new StdioServerTransport());
  console.error("conformance fixture: serving on stdio");
}
