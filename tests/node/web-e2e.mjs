// The web UI end to end in headless Chromium (Debian's, driven by
// playwright-core): sign in with a one-time login URL, copy the Connect
// card's MCP URL, add an OpenAPI source through Add Source, see its tools,
// run one, then run a write that pauses and approve it on its approval
// page; add a connection; add, reorder and remove policies. Screenshots go to the folder given. Prints what it saw as JSON.
//
// Playwright gives the browser a new empty profile of its own.
//
// Usage: node web-e2e.mjs <login URL> <spec URL> <screenshot folder>
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

const [loginUrl, specUrl, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const base = new URL(loginUrl).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const seen = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  // Signed out, the UI says how to sign in.
  await page.goto(base + "/");
  seen.signedOut = await page.locator("main").innerText();

  // The one-time login URL: a cookie, then the integrations page.
  problems.length = 0; // the signed-out page's 401 was expected
  await page.goto(loginUrl);
  seen.afterLogin = new URL(page.url()).pathname;
  seen.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
  await shot("01-home");

  // The Connect card's URL, through the clipboard.
  await page.click("#copy-mcp-url");
  await page.waitForFunction(() => document.querySelector("#copy-mcp-url").textContent === "Copied");
  seen.clipboard = await page.evaluate(() => navigator.clipboard.readText());

  // Add Source: paste a URL, name it, add.
  await page.click("#nav-add");
  await page.fill('textarea[name="source"]', specUrl);
  await page.fill('input[name="namespace"]', "echo");
  await shot("02-add-source");
  await page.click('#add-source button[type="submit"]');
  await page.waitForSelector("#add-result.succeeded, #add-result.failed");
  seen.added = await page.locator("#add-result").innerText();
  await shot("03-added");

  // Its tools; a read runs at once.
  await page.click("#open-integration");
  await page.waitForSelector("details.tool");
  seen.tools = await page.locator("details.tool").count();
  const read = page.locator('details.tool[data-path$=".items.getItem"]');
  await read.locator("summary").click();
  await read.locator(".input-schema").filter({ hasNotText: "loading" }).waitFor();
  seen.inputSchema = JSON.parse(await read.locator(".input-schema").innerText());
  await read.locator('textarea[name="input"]').fill('{"id": 7}');
  await read.locator('button[type="submit"]').click();
  await read.locator(".envelope.succeeded, .envelope.failed").waitFor();
  seen.read = JSON.parse(await read.locator(".envelope").innerText());
  await shot("04-run");

  // The integrations page lists it with its tool count and health, and
  // links back to it.
  await page.goto(base + "/");
  seen.integrations = await page.locator('#integrations tr[data-namespace="echo"]').innerText();
  await shot("04b-integrations");
  // A script runs from the home page (code mode, as the owner).
  await page.fill('#run-script textarea[name="code"]', 'const r = await tools.echo.items.getItem({ id: 9 });\nreturn r.data.path;');
  await page.click('#run-script button[type="submit"]');
  await page.waitForSelector("#script-result.succeeded, #script-result.failed");
  seen.script = JSON.parse(await page.locator("#script-result").innerText());
  await shot("04c-script");

  await page.click('#integrations a[href="/integrations/echo"]');
  await page.waitForSelector("details.tool");

  // A write pauses for approval.
  const write = page.locator('details.tool[data-path$=".items.createItem"]');
  await write.locator("summary").click();
  await write.locator('textarea[name="input"]').fill('{"name": "from the browser"}');
  await write.locator('button[type="submit"]').click();
  await write.locator(".envelope.succeeded, .envelope.failed").waitFor();
  seen.paused = JSON.parse(await write.locator(".envelope").innerText());
  await shot("05-paused");

  // Its approval page, then Approve.
  await page.goto(seen.paused.error.approvalUrl);
  seen.approvalPage = await page.locator("main").innerText();
  await shot("06-approval");
  await page.click("#approve");
  await page.waitForFunction(() => document.querySelector("#state").textContent !== "paused");
  seen.approved = JSON.parse(await page.locator("#result").innerText());
  seen.stateAfter = await page.locator("#state").innerText();
  seen.buttonsAfter = await page.locator("button[data-resume]").count();
  seen.badgeAfter = await page.locator("#pending").count();
  await shot("07-approved");

  // Approvals lists it as answered; nothing waits.
  await page.goto(base + "/approvals");
  seen.approvals = await page.locator("main").innerText();
  await shot("08-approvals");
  // Connections: the secret is written, never shown.
  await page.goto(base + "/connections");
  await page.selectOption('select[name="method"]', "bearer");
  await page.fill('input[name="secret"]', "browser-secret-123");
  await Promise.all([page.waitForEvent("load"), page.click('#add-connection button[type="submit"]')]);
  seen.connections = await page.locator("#connections").innerText();
  seen.connectionsHtmlHasSecret = (await page.content()).includes("browser-secret-123");
  await shot("09-connections");

  page.on("dialog", (dialog) => dialog.accept());
  // Refresh the source, then remove it from its page.
  await page.goto(base + "/integrations/echo");
  await Promise.all([page.waitForEvent("load"), page.click("#refresh-source")]);
  seen.toolsAfterRefresh = await page.locator("details.tool").count();
  await Promise.all([page.waitForURL(base + "/"), page.click("#remove-source")]);
  seen.afterRemove = await page.locator("main").innerText();

  // Policies: add two rules, move the second up, remove one.
  await page.goto(base + "/policies");
  for (const [pattern, action] of [["echo.*", "block"], ["echo.*.*.items.*", "allow"]]) {
    await page.fill('input[name="pattern"]', pattern);
    await page.selectOption('select[name="action"]', action);
    await Promise.all([page.waitForEvent("load"), page.click('#add-policy button[type="submit"]')]);
  }
  seen.policiesAdded = await page.locator("#policies tbody tr td:nth-child(2)").allInnerTexts();
  await Promise.all([page.waitForEvent("load"), page.click('#policies tbody tr:nth-child(2) button:has-text("Up")')]);
  seen.policiesMoved = await page.locator("#policies tbody tr td:nth-child(2)").allInnerTexts();
  await shot("10-policies");
  await Promise.all([page.waitForEvent("load"), page.click('#policies tbody tr:nth-child(2) button:has-text("Remove")')]);
  seen.policiesLeft = await page.locator("#policies tbody tr td:nth-child(2)").allInnerTexts();
  seen.problems = [...problems];
  // A bad pattern is explained, not stored (its 400 is expected).
  await page.fill('input[name="pattern"]', "echo..x");
  await page.click('#add-policy button[type="submit"]');
  await page.locator("#policy-result.failed").waitFor();
  seen.badPattern = await page.locator("#policy-result").innerText();
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
