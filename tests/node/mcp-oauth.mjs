// The official MCP TypeScript SDK client's own OAuth support against
// executor's /mcp, with no token configured, for tests/clients.rs. The
// SDK discovers executor's metadata, registers itself, and sends the
// person to the authorization URL; headless Chromium (Debian's, through
// playwright-core) plays the person: it meets the sign-in page, signs in
// with a one-time login URL that lands on the consent page, and allows.
// The SDK then trades the code for tokens, lists and calls tools.
//
// Usage:
//   node mcp-oauth.mjs signin <mcp url> <state file> <login url> <tool> '<arguments>'
//   node mcp-oauth.mjs again  <mcp url> <state file>
// "again" connects with the tokens "signin" saved (in <state file>).
// Prints one JSON line of what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { readFileSync, writeFileSync, existsSync } from "node:fs";

const [phase, mcpUrl, stateFile, loginUrl, tool, argsText] = process.argv.slice(2);

class Provider {
  constructor(file, redirect) {
    this.file = file;
    this.redirect = redirect;
    this.data = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
    this.authorizationUrl = null;
  }
  save() {
    writeFileSync(this.file, JSON.stringify(this.data));
  }
  get redirectUrl() {
    return this.data.redirect ?? this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: "executor-tests OAuth client",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.data.client;
  }
  saveClientInformation(info) {
    this.data.client = info;
    this.data.redirect = this.redirectUrl;
    this.save();
  }
  tokens() {
    return this.data.tokens;
  }
  saveTokens(tokens) {
    this.data.tokens = tokens;
    this.save();
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier) {
    this.data.verifier = verifier;
    this.save();
  }
  codeVerifier() {
    return this.data.verifier;
  }
}

const out = {};
const step = (what) => process.stderr.write(`mcp-oauth: ${what}\n`);
const connect = async (provider) => {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "executor-oauth-tests", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
};

if (phase === "again") {
  const provider = new Provider(stateFile, null);
  try {
    const { client } = await connect(provider);
    out.tools = (await client.listTools()).tools.length;
  } catch (e) {
    out.connectError = String(e?.message ?? e);
  }
  out.sentToSignIn = provider.authorizationUrl !== null;
  console.log(JSON.stringify(out));
  process.exit(0);
}

// The redirect URI: a loopback server that takes the code.
let gotCode;
const codeArrived = new Promise((resolve) => (gotCode = resolve));
const callback = createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("signed in; you may close this window");
  gotCode(Object.fromEntries(url.searchParams));
});
await new Promise((resolve) => callback.listen(0, "127.0.0.1", resolve));
const redirect = `http://127.0.0.1:${callback.address().port}/callback`;
const provider = new Provider(stateFile, redirect);

// No token: the SDK meets the 401, discovers, registers, and asks for a browser.
try {
  await connect(provider);
  out.connectedWithoutSignIn = true;
} catch (e) {
  out.firstError = e?.constructor?.name ?? String(e);
  out.firstMessage = String(e?.stack ?? e);
}
out.registered = provider.data.client?.client_id ?? null;
if (!provider.authorizationUrl) {
  console.log(JSON.stringify(out));
  process.exit(0);
}
const authorize = new URL(provider.authorizationUrl);
out.authorize = {
  path: authorize.pathname,
  codeChallengeMethod: authorize.searchParams.get("code_challenge_method"),
  resource: authorize.searchParams.get("resource"),
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await (await browser.newContext()).newPage();
  // Signed out: the consent page says how to sign in.
  step("to the authorization URL");
  const first = await page.goto(authorize.href);
  out.consentPath = new URL(page.url()).pathname;
  out.signedOutStatus = first.status();
  out.signedOutText = await page.locator("main").innerText();
  // Signed in with a one-time login URL that lands back on the consent page.
  step("signing in");
  await page.goto(`${loginUrl}&next=${encodeURIComponent(out.consentPath)}`);
  out.consentClient = await page.locator("#client-name").innerText();
  out.consentRedirect = await page.locator("#redirect").innerText();
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`no code arrived; the page shows: ${page.url()}`)), 20000));
  const [params] = await Promise.race([Promise.all([codeArrived, page.click("#allow")]), timeout]);
  out.callback = { hasCode: typeof params.code === "string", iss: params.iss ?? null, error: params.error ?? null };
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  step("trading the code");
  await transport.finishAuth(params.code);
  out.tokens = { access: !!provider.data.tokens?.access_token, refresh: !!provider.data.tokens?.refresh_token };
  const { client } = await connect(provider);
  step("listing");
  const listed = await client.listTools();
  out.tools = listed.tools.map((t) => t.name);
  step("calling");
  out.call = await client.callTool({ name: tool, arguments: JSON.parse(argsText ?? "{}") });
} finally {
  await browser.close();
  callback.closeAllConnections();
  callback.close();
}
console.log(JSON.stringify(out));
// The client's event stream would keep the process alive.
process.exit(0);
