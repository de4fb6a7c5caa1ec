// The suite's authorization-server scenarios (0.2.0-alpha.12,
// `conformance authorization`) against executor's own OAuth server, with
// the person played by headless Chromium:
//
//   1. registers a client (RFC 7591) whose redirect URI is the suite's
//      callback (http://127.0.0.1:<free port>/callback);
//   2. runs the suite (`authorization-server-metadata-endpoint`, then
//      `authorization-code-grant` with that client, PKCE and the resource);
//   3. when the suite prints the authorization URL, Chromium opens it, signs
//      in with a one-time login URL that lands back on the consent page, and
//      allows; the browser then carries the code to the suite's callback and
//      the suite trades it for a token.
//
// Usage: node authorize.mjs <executor url> <login url> <suite index.js> <output dir>
// Exit status: 0 when the suite ran (its checks are the measurement), 1 when
// the harness failed. Environment: CHROMIUM (default /usr/bin/chromium).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const [base, loginUrl, suite, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node authorize.mjs <executor url> <login url> <suite index.js> <output dir>");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const registered = await fetch(`${base}/oauth/register`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    client_name: "MCP conformance suite",
    redirect_uris: [`http://127.0.0.1:${port}/callback`],
  }),
});
const client = await registered.json();
if (registered.status !== 201) throw new Error(`registration: HTTP ${registered.status} ${JSON.stringify(client)}`);

const run = spawn(
  process.execPath,
  [suite, "authorization", "--url", base, "--client-id", client.client_id, "--resource", `${base}/mcp`, "-p", String(port), "-o", outDir],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let log = "";
const exited = new Promise((resolve) => run.on("exit", (code) => resolve(code)));
const authorizationUrl = new Promise((resolve) => {
  run.stdout.on("data", (chunk) => {
    log += chunk;
    const m = log.match(/^(http\S*\/oauth\/authorize\?\S+)$/m);
    if (m) resolve(m[1]);
  });
  run.stderr.on("data", (chunk) => (log += chunk));
  exited.then(() => resolve(null));
});

const url = await authorizationUrl;
let browserError = null;
if (url) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    const consentPath = new URL(page.url()).pathname;
    if (!consentPath.startsWith("/consent/")) throw new Error(`the authorization URL led to ${page.url()}`);
    await page.goto(`${loginUrl}&next=${encodeURIComponent(consentPath)}`);
    await Promise.all([page.waitForURL(`http://127.0.0.1:${port}/callback**`, { timeout: 20000 }), page.click("#allow")]);
  } catch (e) {
    browserError = e.message;
  } finally {
    await browser.close();
  }
}
const timer = setTimeout(() => run.kill("SIGKILL"), 60000);
const code = await exited;
clearTimeout(timer);
writeFileSync(path.join(outDir, "suite.log"), log + (browserError ? `\nbrowser: ${browserError}\n` : ""));
if (!url) {
  console.error(`authorize: the suite printed no authorization URL (exit ${code}):\n${log}`);
  process.exit(1);
}
if (browserError) {
  console.error(`authorize: the browser could not answer the consent page: ${browserError}`);
  process.exit(1);
}
console.log(`authorization scenarios ran (suite exit ${code})`);
process.exit(0);
