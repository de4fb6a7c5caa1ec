// A small MCP server over stdio for executor's tests, written with the
// official SDK: `grow` registers one more tool each time it is called, which
// makes the SDK send notifications/tools/list_changed.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "fixture", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
let grown = 0;
server.registerTool(
  "grow",
  { description: "Adds a tool named grown-<n>", inputSchema: {} },
  async () => {
    grown += 1;
    const name = `grown-${grown}`;
    server.registerTool(name, { description: `Tool number ${grown}`, inputSchema: { x: z.number() } }, async ({ x }) => ({
      content: [{ type: "text", text: `${name}: ${x}` }],
    }));
    return { content: [{ type: "text", text: name }] };
  },
);
await server.connect(new StdioServerTransport());
