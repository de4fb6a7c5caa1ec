// Drives executor's /mcp endpoint with the official MCP TypeScript SDK
// client, for tests/mcp.rs. Usage:
//   node mcp-client.mjs <mcp url> <token|-> '<steps as JSON>' [approve|decline|none]
// The last argument makes the client declare elicitation and answer every
// approval question so (default: none, no elicitation capability); the
// questions asked are printed as "elicitations".
// Steps: {"list": true} | {"call": name, "arguments": {...}} |
//        {"addSourceThenWait": {...addSource input...}}
// Prints one JSON line: {"protocolVersion", "results": [...]} where each
// result is what the SDK returned (or {"thrown": message, "code": n}).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const [url, token, stepsText, elicitation = "none"] = process.argv.slice(2);
const steps = JSON.parse(stepsText);
const headers = token && token !== "-" ? { authorization: `Bearer ${token}` } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const capabilities = elicitation === "none" ? {} : { elicitation: { form: {} } };
const client = new Client({ name: "executor-tests", version: "1.0.0" }, { capabilities });
const elicitations = [];
if (elicitation !== "none") {
  client.setRequestHandler(ElicitRequestSchema, (request) => {
    elicitations.push(request.params.message);
    return elicitation === "approve" ? { action: "accept", content: { approve: true } } : { action: "decline" };
  });
}
let listChanged = 0;
client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
  listChanged += 1;
});

const out = { results: [], elicitations };
try {
  await client.connect(transport);
} catch (e) {
  console.log(JSON.stringify({ connectError: String(e?.message ?? e) }));
  process.exit(0);
}
out.protocolVersion = transport.protocolVersion ?? null;
for (const step of steps) {
  try {
    if (step.list) {
      const tools = [];
      let cursor;
      let pages = 0;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        tools.push(...page.tools);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      out.results.push({ pages, tools });
    } else if (step.call) {
      out.results.push(await client.callTool({ name: step.call, arguments: step.arguments ?? {} }));
    } else if (step.addSourceThenWait) {
      const base = url.replace(/\/mcp.*$/, "");
      const response = await fetch(`${base}/api/tools/invoke/executor.openapi.addSource`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(step.addSourceThenWait),
      });
      const added = await response.json();
      const started = Date.now();
      while (listChanged === 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
      out.results.push({ added: added.ok, listChanged });
    }
  } catch (e) {
    out.results.push({ thrown: String(e?.message ?? e), code: e?.code ?? null });
  }
}
await client.close();
console.log(JSON.stringify(out));
