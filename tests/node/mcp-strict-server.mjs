// An MCP server of an older revision that takes nothing before
// `initialize`: any other first request (a 2026-07-28 client's
// `server/discover` probe) and it exits, as some early servers did. Over
// stdio, one JSON-RPC message a line; one tool, `ping`.
import { createInterface } from 'node:readline';

const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
let initialized = false;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const message = JSON.parse(line);
  if (!initialized && message.method !== 'initialize') process.exit(1);
  if (message.id === undefined) continue;
  switch (message.method) {
    case 'initialize':
      initialized = true;
      send({
        id: message.id,
        result: {
          protocolVersion: '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'strict', version: '1.0.0' }
        }
      });
      break;
    case 'tools/list':
      send({
        id: message.id,
        result: {
          tools: [{ name: 'ping', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }]
        }
      });
      break;
    case 'tools/call':
      send({ id: message.id, result: { content: [{ type: 'text', text: 'pong' }] } });
      break;
    default:
      send({ id: message.id, error: { code: -32601, message: `no method ${message.method}` } });
  }
}
