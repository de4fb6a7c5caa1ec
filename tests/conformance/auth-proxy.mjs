// A reverse proxy for the conformance run: the suite sends no Authorization
// header, executor's /mcp needs `Authorization: Bearer <token>`. This adds
// the header and forwards everything else as it is, streaming both ways (SSE
// answers are piped chunk by chunk, never buffered), so executor needs no
// auth bypass. Plain node:http, no dependencies.
//
//   node auth-proxy.mjs <executor base URL, e.g. http://127.0.0.1:4788> <token file>
//
// Listens on 127.0.0.1 (port PROXY_PORT, default 0 = any free one) and prints
// `listening <proxy base URL>` on stdout once ready. PROXY_LOG=<file> appends
// one line per request (method, path, JSON-RPC method, status, content type).
//
// Host and Origin: a request addressed to the proxy itself (Host
// 127.0.0.1:<proxy port> or localhost:<proxy port>, and the matching Origin)
// is re-addressed to executor; any other Host or Origin is passed through
// untouched, so the dns-rebinding-protection scenario still tests
// executor's own checks.
//
// PROXY_TOOL_PREFIX=<prefix> (diagnostic mode, e.g. `conformance.org.main.`):
// also maps tool names, the way a bare-name passthrough in executor would,
// to measure what fails beyond naming: `tools/call` names without the prefix
// get it; `tools/list` answers (JSON or SSE, rewritten line by line, still
// streamed) lose it. Nothing else is touched.
import { appendFileSync, readFileSync } from "node:fs";
import http from "node:http";

const [target, tokenFile] = process.argv.slice(2);
if (!target || !tokenFile) {
  console.error("usage: node auth-proxy.mjs <executor base URL> <token file>");
  process.exit(2);
}
const upstream = new URL(target);
const token = readFileSync(tokenFile, "utf8").trim();
const logFile = process.env.PROXY_LOG;
const prefix = process.env.PROXY_TOOL_PREFIX || "";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

let ownHosts = [];
// host:port of executor for a proxy host, keeping the name the client used.
function readdress(host) {
  if (typeof host !== "string") return host;
  const lower = host.toLowerCase();
  if (!ownHosts.includes(lower)) return host;
  const name = lower.startsWith("localhost:") ? "localhost" : upstream.hostname;
  return `${name}:${upstream.port}`;
}

function log(line) {
  if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

// tools/call: bare name -> prefixed name. `body` is one message or a batch.
function renameCalls(body) {
  for (const m of Array.isArray(body) ? body : [body]) {
    if (m?.method === "tools/call" && typeof m.params?.name === "string" && !m.params.name.startsWith(prefix)) {
      m.params.name = prefix + m.params.name;
    }
  }
  return body;
}

// tools/list answers: prefixed names -> bare names.
function renameLists(message) {
  let changed = false;
  for (const m of Array.isArray(message) ? message : [message]) {
    for (const tool of Array.isArray(m?.result?.tools) ? m.result.tools : []) {
      if (typeof tool.name === "string" && tool.name.startsWith(prefix)) {
        tool.name = tool.name.slice(prefix.length);
        changed = true;
      }
    }
  }
  return changed;
}

function renameLine(line) {
  const m = /^data: ?(.*)$/.exec(line);
  if (!m || !m[1].startsWith("{") && !m[1].startsWith("[")) return line;
  try {
    const message = JSON.parse(m[1]);
    return renameLists(message) ? `data: ${JSON.stringify(message)}` : line;
  } catch {
    return line;
  }
}

// Pipes an answer through, rewriting tools/list names, one line at a time
// for SSE (each complete line leaves as soon as it arrives).
function pipeRenamed(answer, res) {
  const sse = String(answer.headers["content-type"] ?? "").includes("text/event-stream");
  let pending = "";
  answer.setEncoding("utf8");
  answer.on("data", (chunk) => {
    if (!sse) {
      pending += chunk;
      return;
    }
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop();
    if (lines.length) res.write(lines.map(renameLine).join("\n") + "\n");
  });
  answer.on("end", () => {
    if (!sse) {
      try {
        const message = JSON.parse(pending);
        if (renameLists(message)) pending = JSON.stringify(message);
      } catch {}
    } else if (pending) {
      pending = renameLine(pending);
    }
    res.end(pending);
  });
}

// Forwards one request to executor; `body` is the rewritten request body,
// or undefined to stream the client's body through as it comes.
function forward(req, res, headers, body, described) {
  const upstreamRequest = http.request(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
    },
    (answer) => {
      log(`${described()} -> ${answer.statusCode} ${answer.headers["content-type"] ?? ""}`);
      const out = forwardable(answer.headers);
      if (prefix) delete out["content-length"];
      res.writeHead(answer.statusCode ?? 502, out);
      res.flushHeaders();
      answer.on("error", () => res.destroy());
      if (prefix) pipeRenamed(answer, res);
      else answer.pipe(res);
    },
  );
  upstreamRequest.on("error", (e) => {
    log(`${described()} -> proxy error ${e.message}`);
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`auth-proxy: ${e.message}\n`);
    } else {
      res.destroy();
    }
  });
  // The client went away (a cancelled SSE reader, a closed session): drop
  // the upstream request too, so executor sees the stream end.
  res.on("close", () => {
    if (!res.writableFinished) upstreamRequest.destroy();
  });
  if (body === undefined) req.pipe(upstreamRequest);
  else upstreamRequest.end(body);
}

const server = http.createServer((req, res) => {
  const headers = forwardable(req.headers);
  headers.host = readdress(req.headers.host);
  if (typeof req.headers.origin === "string") {
    const m = /^http:\/\/(.+)$/i.exec(req.headers.origin);
    if (m && ownHosts.includes(m[1].toLowerCase())) headers.origin = `http://${readdress(m[1])}`;
  }
  headers.authorization = `Bearer ${token}`;

  // Peek at the JSON-RPC method for the log without holding the body back.
  let rpc = "";
  if (logFile) {
    let first = "";
    req.on("data", (chunk) => {
      if (first.length < 4096) first += chunk.toString("utf8");
    });
    req.on("end", () => {
      const m = /"method"\s*:\s*"([^"]+)"/.exec(first);
      rpc = m ? m[1] : "";
    });
  }
  const described = () => `${req.method} ${req.url} ${rpc} host=${req.headers.host}`;

  if (!prefix || req.method !== "POST") {
    forward(req, res, headers, undefined, described);
    return;
  }
  // Diagnostic mode: requests are small JSON-RPC messages; rewrite them whole.
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body = Buffer.concat(chunks);
    try {
      body = Buffer.from(JSON.stringify(renameCalls(JSON.parse(body.toString("utf8")))));
    } catch {
      // Not JSON: executor will say so; pass it on as it is.
    }
    headers["content-length"] = String(body.length);
    forward(req, res, headers, body, described);
  });
});

// Long-lived SSE streams must not be cut by Node's default timeouts.
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.keepAliveTimeout = 5_000;
server.timeout = 0;

server.listen(Number(process.env.PROXY_PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address();
  ownHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  console.log(`listening http://127.0.0.1:${port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
