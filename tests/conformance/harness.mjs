// Small steps of run.sh that want HTTP or JSON (so the script needs neither
// curl nor python):
//
//   node harness.mjs wait-health <base URL> <seconds>
//   node harness.mjs add-source <base URL> <token file> <namespace> <node> <fixture> <expected tool count>
//   node harness.mjs allow <base URL> <token file> <pattern>
//   node harness.mjs summarize <results dir> <scenario list file> <target>...
//   node harness.mjs summarize-requirements <results dir> <revision>...
//   node harness.mjs summarize-authorization <results dir>
//
// Exit codes: 0 done, 1 the step failed (a harness failure), 2 bad usage.
import { readFileSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";

const [command, ...args] = process.argv.slice(2);

// Scenarios that the suite's default ("active") run leaves out in 0.1.16;
// `--suite all` and run.sh include them. From the suite's dist: the pending
// list is [json-schema-2020-12, server-sse-polling].
const PENDING = new Set(["json-schema-2020-12", "server-sse-polling"]);

async function waitHealth(base, seconds) {
  const deadline = Date.now() + Number(seconds) * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${base}/api/health did not answer 200 within ${seconds} s (last: ${last})`);
}

async function addSource(base, tokenFile, namespace, node, fixture, expected) {
  const token = readFileSync(tokenFile, "utf8").trim();
  const r = await fetch(`${base}/api/tools/invoke/executor.mcp.addSource`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ namespace, command: node, args: [fixture] }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`addSource: HTTP ${r.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!r.ok || body.ok !== true) throw new Error(`addSource: HTTP ${r.status}: ${text.slice(0, 2000)}`);
  if (body.data?.tools !== Number(expected)) {
    throw new Error(`addSource: expected ${expected} tools, got ${JSON.stringify(body.data)}`);
  }
  console.log(`source ${namespace}: ${body.data.tools} tools`);
}

// Lets agents call the fixture's tools without a person's approval: MCP
// tools without `readOnlyHint` default to `require_approval`, which would
// pause every call the suite makes. Binaries from before policies have no
// `executor.policies.add` (404 tool_not_found): nothing to do then.
async function allow(base, tokenFile, pattern) {
  const token = readFileSync(tokenFile, "utf8").trim();
  const r = await fetch(`${base}/api/tools/invoke/executor.policies.add`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ pattern, action: "allow" }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // reported below
  }
  if (r.status === 404 && body.error?.code === "tool_not_found") {
    console.log("no policies in this binary: nothing to allow");
    return;
  }
  if (!r.ok || body.ok !== true) throw new Error(`policies.add: HTTP ${r.status}: ${text.slice(0, 2000)}`);
  console.log(`policy: allow ${pattern}`);
}

// One scenario's outcome from the checks.json the suite wrote.
function outcome(dir) {
  if (!existsSync(dir)) return { status: "error", message: "no result (the suite crashed or timed out)" };
  const runs = readdirSync(dir).filter((d) => existsSync(path.join(dir, d, "checks.json")));
  if (runs.length === 0) {
    const log = path.join(dir, "suite.log");
    const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-3).join(" | ") : "";
    return { status: "error", message: `no checks.json (the suite crashed or timed out) ${tail}`.trim() };
  }
  return outcomeOf(path.join(dir, runs.sort().at(-1), "checks.json"));
}

// The outcome written in one checks.json.
function outcomeOf(file) {
  const checks = JSON.parse(readFileSync(file, "utf8"));
  const count = (s) => checks.filter((c) => c.status === s).length;
  const failures = checks.filter((c) => c.status === "FAILURE");
  const warnings = checks.filter((c) => c.status === "WARNING");
  const passed = count("SUCCESS");
  let status = "pass";
  if (failures.length) status = "fail";
  else if (passed === 0) status = warnings.length ? "warn" : "n/a";
  const first = failures[0] ?? warnings[0];
  return {
    status,
    passed,
    failed: failures.length,
    warnings: warnings.length,
    message: first ? `${first.id}: ${first.errorMessage ?? first.description}` : undefined,
  };
}

// The server scenarios of one requirement set, from `conformance list
// --server --requirements <revision>` (0.2.0): the scored ones under
// "Server scenarios", and those run but never scored (extensions, pending,
// added after the release) with their reason.
function requirementList(text) {
  const scored = [];
  const unscored = {};
  let section = "";
  let reason = "";
  for (const line of text.split("\n")) {
    if (/^Server scenarios/.test(line)) section = "server";
    else if (/^Client scenarios/.test(line)) section = "client";
    else if (/^Run and reported/.test(line)) section = "unscored";
    else if (section === "server" && /^  - /.test(line)) scored.push(line.slice(4).trim());
    else if (section === "unscored" && /^  [^ ].*:$/.test(line)) reason = line.trim().replace(/ \(\d+\):$/, "");
    else if (section === "unscored") {
      const m = line.match(/^    - (\S+) \[server\]/);
      if (m) unscored[m[1]] = reason;
    }
  }
  return { scored, unscored };
}

// The outcomes of the 0.2.0 suite's requirement-set runs (run.sh step 5),
// added to results.json (`requirements`) and results.md. Each run wrote
// <dir>/server-<scenario>-<time>/checks.json for every scenario it ran.
function summarizeRequirements(resultsDir, revisions) {
  const file = path.join(resultsDir, "results.json");
  const json = JSON.parse(readFileSync(file, "utf8"));
  json.requirements = { suite: "@modelcontextprotocol/conformance@0.2.0-alpha.12" };
  const lines = [""];
  for (const revision of revisions) {
    const dir = path.join(resultsDir, "raw", `requirements-${revision}`);
    const { scored, unscored } = requirementList(readFileSync(path.join(dir, "list.txt"), "utf8"));
    if (scored.length === 0) throw new Error(`no server scenarios are listed for ${revision}`);
    const runs = readdirSync(dir);
    const of = (scenario) => {
      const mine = runs.filter((d) => d.startsWith(`server-${scenario}-`) && /^\d{4}-\d\d-\d\dT/.test(d.slice(scenario.length + 8)));
      if (mine.length === 0) return { status: "error", message: "no result (the suite crashed or timed out)" };
      return outcomeOf(path.join(dir, mine.sort().at(-1), "checks.json"));
    };
    const record = { scored: {}, unscored: {} };
    for (const s of scored) record.scored[s] = of(s);
    for (const [s, why] of Object.entries(unscored)) record.unscored[s] = { ...of(s), reason: why };
    json.requirements[revision] = record;
    const all = Object.values(record.scored);
    const pass = all.filter((o) => o.status === "pass").length;
    lines.push(`## Requirements ${revision} (${json.requirements.suite}): ${pass} of ${all.length} scored server scenarios pass`, "");
    lines.push("| scenario | executor | first failure or warning |", "|---|---|---|");
    for (const s of scored) lines.push(`| ${s} | ${cell(record.scored[s])} | ${short(record.scored[s].message)} |`);
    for (const [s, o] of Object.entries(record.unscored)) lines.push(`| ${s} (${o.reason}, not scored) | ${cell(o)} | ${short(o.message)} |`);
    lines.push("");
  }
  writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  const md = path.join(resultsDir, "results.md");
  writeFileSync(md, readFileSync(md, "utf8") + lines.join("\n"));
  console.log(lines.join("\n"));
}

// The outcomes of the authorization-server scenarios (run.sh step 6,
// authorize.mjs), added to results.json (`authorization`) and results.md.
// The run wrote <dir>/authorization-server-<scenario>-<time>/checks.json.
function summarizeAuthorization(resultsDir) {
  const file = path.join(resultsDir, "results.json");
  const json = JSON.parse(readFileSync(file, "utf8"));
  const dir = path.join(resultsDir, "raw", "authorization");
  const record = {};
  for (const d of readdirSync(dir).sort()) {
    const m = d.match(/^authorization-server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    if (m && existsSync(path.join(dir, d, "checks.json"))) record[m[1]] = outcomeOf(path.join(dir, d, "checks.json"));
  }
  if (Object.keys(record).length === 0) throw new Error(`no authorization scenario results in ${dir}`);
  json.authorization = record;
  writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
  const lines = ["", `## Authorization server (${json.requirements?.suite ?? "0.2.0"}, \`conformance authorization\`)`, ""];
  lines.push("| scenario | executor | first failure or warning |", "|---|---|---|");
  for (const [s, o] of Object.entries(record)) lines.push(`| ${s} | ${cell(o)} | ${short(o.message)} |`);
  lines.push("");
  const md = path.join(resultsDir, "results.md");
  writeFileSync(md, readFileSync(md, "utf8") + lines.join("\n"));
  console.log(lines.join("\n"));
}

// A table cell: the status, with the warnings a passing scenario had.
function cell(o) {
  return o.status === "pass" && o.warnings ? `pass (${o.warnings} warn)` : o.status;
}

function short(text, max = 240) {
  const s = String(text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function summarize(resultsDir, listFile, targets) {
  const scenarios = readFileSync(listFile, "utf8").split("\n").filter(Boolean);
  const results = {};
  for (const target of targets) {
    results[target] = {};
    for (const s of scenarios) results[target][s] = outcome(path.join(resultsDir, "raw", target, s));
  }
  const json = {
    suite: "@modelcontextprotocol/conformance@0.1.16",
    date: new Date().toISOString(),
    targets,
    pending: [...PENDING],
    results,
  };
  writeFileSync(path.join(resultsDir, "results.json"), JSON.stringify(json, null, 2) + "\n");

  // A "first failure" column for every target but the baseline.
  const explained = targets.filter((t) => t !== "baseline");
  const lines = [
    `# Conformance results (${json.suite}, ${json.date})`,
    "",
    `| scenario | ${targets.join(" | ")} | ${explained.map((t) => `first failure or warning (${t})`).join(" | ")} |`,
    `|---|${targets.map(() => "---").join("|")}|${explained.map(() => "---").join("|")}|`,
  ];
  for (const s of scenarios) {
    const name = PENDING.has(s) ? `${s} (pending)` : s;
    const why = explained.map((t) => short(results[t][s].message));
    lines.push(`| ${name} | ${targets.map((t) => cell(results[t][s])).join(" | ")} | ${why.join(" | ")} |`);
  }
  lines.push("");
  for (const t of targets) {
    const values = Object.values(results[t]);
    const by = (st) => values.filter((o) => o.status === st).length;
    lines.push(
      `- ${t}: ${by("pass")} pass, ${by("fail")} fail, ${by("warn")} warnings only, ${by("n/a")} n/a, ${by("error")} error (of ${values.length})`,
    );
  }
  lines.push("");
  writeFileSync(path.join(resultsDir, "results.md"), lines.join("\n"));
  console.log(lines.join("\n"));
}

try {
  switch (command) {
    case "wait-health":
      await waitHealth(args[0], args[1] ?? 30);
      break;
    case "add-source":
      await addSource(...args);
      break;
    case "allow":
      await allow(...args);
      break;
    case "summarize":
      summarize(args[0], args[1], args.slice(2));
      break;
    case "summarize-requirements":
      summarizeRequirements(args[0], args.slice(1));
      break;
    case "summarize-authorization":
      summarizeAuthorization(args[0]);
      break;
    default:
      console.error("usage: node harness.mjs wait-health|add-source|allow|summarize|summarize-requirements|summarize-authorization ...");
      process.exit(2);
  }
} catch (e) {
  console.error(`harness: ${e.message}`);
  process.exit(1);
}
