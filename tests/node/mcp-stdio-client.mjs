// Drives `executor mcp` (MCP over stdio) with the official MCP TypeScript
// SDK's stdio client, for tests/mcp.rs. Usage:
//   node mcp-stdio-client.mjs <executor binary> <EXECUTOR_HOME> '<steps as JSON>'
// Steps as in mcp-client.mjs ({"list": true}, {"call": name, "arguments": {...}}).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, home, stepsText] = process.argv.slice(2);
const steps = JSON.parse(stepsText);
const transport = new StdioClientTransport({
  command,
  args: ["mcp"],
  env: { ...process.env, EXECUTOR_HOME: home, EXECUTOR_PORT: "0" },
  stderr: "pipe",
});
let stderr = "";
transport.stderr?.on("data", (d) => {
  stderr += d;
});
const client = new Client({ name: "executor-tests", version: "1.0.0" });
const out = { results: [] };
await client.connect(transport);
for (const step of steps) {
  try {
    if (step.list) {
      const page = await client.listTools();
      out.results.push({ tools: page.tools, nextCursor: page.nextCursor ?? null });
    } else if (step.call) {
      out.results.push(await client.callTool({ name: step.call, arguments: step.arguments ?? {} }));
    }
  } catch (e) {
    out.results.push({ thrown: String(e?.message ?? e) });
  }
}
await client.close();
out.stderr = stderr;
console.log(JSON.stringify(out));
