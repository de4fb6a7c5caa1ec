// An MCP server that speaks only the legacy HTTP+SSE transport (protocol
// 2024-11-05), written with the official SDK's SSEServerTransport, for
// executor's fallback test: `GET /sse` opens the stream, messages are POSTed
// to `/messages?sessionId=...`; anything else (a streamable HTTP POST to
// /sse included) is 405/404. Checks `x-api-key: fixture-key` on every
// request. Prints `listening <base URL>` on stdout.
import http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { z } from "zod";

const transports = new Map();

const httpServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (req.headers["x-api-key"] !== "fixture-key") {
    res.writeHead(401).end("missing or wrong x-api-key");
    return;
  }
  if (req.method === "GET" && url.pathname === "/sse") {
    const server = new McpServer({ name: "legacy-sse", version: "1.0.0" });
    server.registerTool(
      "shout",
      { description: "Upper-cases a word", inputSchema: { word: z.string() } },
      async ({ word }) => ({ content: [{ type: "text", text: word.toUpperCase() }] }),
    );
    const transport = new SSEServerTransport("/messages", res);
    transports.set(transport.sessionId, transport);
    res.on("close", () => transports.delete(transport.sessionId));
    await server.connect(transport);
    return;
  }
  if (req.method === "POST" && url.pathname === "/messages") {
    const transport = transports.get(url.searchParams.get("sessionId"));
    if (!transport) {
      res.writeHead(404).end("no such session");
      return;
    }
    await transport.handlePostMessage(req, res);
    return;
  }
  res.writeHead(url.pathname === "/sse" ? 405 : 404).end();
});
httpServer.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${httpServer.address().port}`);
});
