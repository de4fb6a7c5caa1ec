#!/usr/bin/env node
// Scores the product executor follows (npm `executor`, 1.5.9) on our
// labelled tool-search set (tests/fixtures/search/queries.tsv and
// heldout.tsv), so its figures can be set beside ours (tests/search.rs).
//
//   node benches/search-product.mjs            # from the repository root
//
// Environment: EXECUTOR_PRODUCT_BIN (its CLI; default the npm install under
// benches/product), SEARCH_CORPUS (the unpacked OpenAPI corpus; default
// target/test-fixtures/corpus/openapi), SEARCH_LIMIT (results asked for per
// query; default 100, as tests/search.rs ranks over 100 in mixed mode),
// SEARCH_MISSES=1 (print every query that missed first place),
// SEARCH_CLI_SAMPLE (how many queries to also time through its CLI; 10).
//
// How it is driven (all against a server of its own on a fresh temp dir;
// its CLI always runs with HOME, EXECUTOR_DATA_DIR and EXECUTOR_SCOPE_DIR set
// to that dir and cwd there, as benches/product.rs does, so it never touches
// ~/.executor nor starts a daemon):
//
// - `executor web --port N` is the server.
// - Each spec is served from the corpus over HTTP on 127.0.0.1 and added as
//   its documents say: `executor call executor openapi addSpec
//   '{"spec":{"kind":"url","url":…},"slug":API}' --base-url …`, which pauses
//   for approval; `executor resume --execution-id … --action accept` does the
//   add. It refuses Swagger 2.0 (Kubernetes' spec): recorded, and that API's
//   queries are skipped.
// - An added OpenAPI integration has no tools until it has a connection: the
//   product produces an integration's tools per connection (before one, its
//   search finds none of them and `tools sources` says toolCount 0). So each
//   added API gets the connection owner "org", name "main", template "none"
//   (no credential: search needs none), through its HTTP API,
//   `POST /api/connections`. Its tools are then addressed
//   `tools.<api>.org.main.<name>` and searched as `<api>.org.main.<name>`,
//   the very shape of our paths.
// - Search: `executor tools search QUERY [--namespace NS] [--limit N]` does
//   nothing but send `return await tools.search({query, limit[, namespace]})`
//   to `POST /api/executions` (apps/cli/src/tooling.ts, buildSearchToolsCode)
//   and print the result (JSON). This script sends that same code over HTTP,
//   so the latency measured excludes the CLI's start-up; a sample is also run
//   through the CLI itself, timed (with its start-up), and checked to give the
//   same ranking.
// - "scoped" is `tools.search({namespace: API})` (the CLI's --namespace),
//   which keeps the tools whose integration (or path) tokens begin with the
//   namespace's; "mixed" is the search without it, over every added API plus
//   the product's 33 built-in tools.
//
// Naming rule (checked at run time on github issues create, and every
// expected tool is looked up in the product's own listing, `GET /api/tools`):
// the product names an OpenAPI operation `<group>.<leaf>`, group = the
// operation's first tag in camelCase, leaf = its operationId in camelCase
// (packages/plugins/openapi/src/sdk/definitions.ts) — the same as ours
// (`expected`), except that
//   1. its camelCase lower-cases runs of capitals after the first letter of
//      a word: tag "Linode Kubernetes Engine (LKE)" / operationId
//      "createLKECluster" give `linodeKubernetesEngineLke.createLkeCluster`
//      where we say `linodeKubernetesEngineLKE.createLKECluster`;
//   2. when the leaf equals the group (operationId "search" under tag
//      "Search"), it uses instead the method plus the PascalCase of the
//      path's literal segments other than version segments, "api" and the
//      group itself, or "Operation" if none is left: Spotify's GET /search is
//      `search.getOperation`, Zoom's GET /users/{userId}/meetings (operationId
//      "meetings") is `meetings.getUsers`; to apply it the operation is looked
//      up by operationId in the spec (JSON specs only);
//   3. (collisions get a version segment, then a method suffix, then a hash:
//      none of the expected tools is concerned.)
// So an expected name maps to: itself if the product lists it; else its
// segments re-cased by rule 1; else, if leaf == group, rule 2. A name none of
// these finds in the product's listing is reported as unmapped and counts as
// not found.

import { spawn, execFile } from "node:child_process";
import { createServer } from "node:http";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const BIN =
  process.env.EXECUTOR_PRODUCT_BIN ??
  path.join(here, "product/node_modules/executor-linux-x64/bin/executor");
const CORPUS =
  process.env.SEARCH_CORPUS ?? path.join(root, "target/test-fixtures/corpus/openapi");
const FIXTURES = path.join(root, "tests/fixtures/search");
const LIMIT = Number(process.env.SEARCH_LIMIT ?? 100);
const CLI_SAMPLE = Number(process.env.SEARCH_CLI_SAMPLE ?? 10);
const SHOW_MISSES = !!process.env.SEARCH_MISSES;

const APIS = [
  ["github", "famous/github-api.github.com.json"],
  ["stripe", "famous/stripe-spec3-2023-09-12.yaml"],
  ["kubernetes", "famous/kubernetes-swagger-2.0.json"],
  ["openai", "famous/openai-openapi.yaml"],
  ["oxide", "famous/oxide-nexus.json"],
  ["twilio", "famous/twilio/twilio_api_v2010.json"],
  ["spotify", "apis-guru/spotify.com.json"],
  ["docker", "apis-guru/docker.com__engine.json"],
  ["linode", "apis-guru/linode.com.json"],
  ["zoom", "apis-guru/zoom.us.json"],
  ["telegram", "apis-guru/telegram.org.json"],
  ["xero", "apis-guru/xero.com__xero_accounting.json"],
];

if (!(LIMIT >= 10)) throw new Error("SEARCH_LIMIT must be at least 10");
for (const [p, what] of [
  [BIN, "the product's CLI (npm install --prefix benches/product executor@1.5.9)"],
  [CORPUS, "the unpacked corpus"],
]) {
  if (!fs.existsSync(p)) {
    console.error(`missing ${what}: ${p}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------
// Processes and clean-up

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "search-product-"));
const productEnv = {
  ...process.env,
  HOME: tmp,
  EXECUTOR_DATA_DIR: tmp,
  EXECUTOR_SCOPE_DIR: tmp,
};
let server = null; // the product's server (its own process group)
let specServer = null;
let cleaned = false;

function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (server && server.exitCode === null && server.signalCode === null) {
    try {
      process.kill(-server.pid, "SIGTERM"); // its group: it and any child
    } catch {
      try {
        server.kill("SIGTERM");
      } catch {}
    }
  }
  if (specServer) {
    specServer.closeAllConnections?.();
    specServer.close();
  }
}

async function stopAndRemove() {
  cleanup();
  if (server) {
    const deadline = Date.now() + 5000;
    while (server.exitCode === null && server.signalCode === null && Date.now() < deadline) {
      await sleep(100);
    }
    if (server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {}
      await sleep(200);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}
process.on("exit", () => {
  cleanup();
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
  } catch {}
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs its CLI (on the temp dir); resolves {stdout, stderr, code, ms}. */
function cli(args, { baseUrl } = {}) {
  const full = baseUrl ? [...args, "--base-url", baseUrl] : args;
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      BIN,
      full,
      { env: productEnv, cwd: tmp, maxBuffer: 64 << 20, timeout: 600_000 },
      (error, stdout, stderr) => {
        resolve({
          stdout,
          stderr,
          code: error ? (error.code ?? 1) : 0,
          ms: performance.now() - started,
        });
      },
    );
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** The corpus over HTTP: the product adds specs by URL. */
function serveSpecs() {
  const base = path.resolve(CORPUS);
  const srv = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "");
    const file = path.resolve(base, rel);
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith(".json") ? "application/json" : "application/yaml";
    res.writeHead(200, { "content-type": type });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

async function api(baseUrl, method, route, body) {
  const res = await fetch(`${baseUrl}/api${route}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

// ---------------------------------------------------------------------------
// The product's naming (ported from its definitions.ts; see the top comment)

const splitWords = (value) =>
  value
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z0-9]+)/g, "$1 $2")
    .replace(/[^a-zA-Z0-9]+/g, " ")
    .trim()
    .split(/\s+/)
    .filter((p) => p.length > 0);

const toCamelCase = (value) => {
  const words = splitWords(value).map((w) => w.toLowerCase());
  if (words.length === 0) return "tool";
  const [first, ...rest] = words;
  return `${first}${rest.map((p) => `${p[0]?.toUpperCase() ?? ""}${p.slice(1)}`).join("")}`;
};
const toPascalCase = (value) => {
  const camel = toCamelCase(value);
  return `${camel[0]?.toUpperCase() ?? ""}${camel.slice(1)}`;
};
const VERSION_SEGMENT = /^v\d+(?:[._-]\d+)?$/i;

/** Rule 2: the leaf for an operation whose operationId equals its group. */
function fallbackLeaf(method, pathTemplate, group) {
  const suffix = pathTemplate
    .split("/")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .filter((s) => !VERSION_SEGMENT.test(s.toLowerCase()))
    .filter((s) => s.toLowerCase() !== "api")
    .filter((s) => !(s.startsWith("{") && s.endsWith("}")))
    .map((s) => toCamelCase(s))
    .filter((s) => s !== group)
    .map((s) => toPascalCase(s))
    .join("");
  return toCamelCase(`${method}${suffix || "Operation"}`);
}

const specCache = new Map();
function jsonSpec(file) {
  if (!file.endsWith(".json")) return null;
  if (!specCache.has(file)) {
    specCache.set(file, JSON.parse(fs.readFileSync(path.join(CORPUS, file), "utf8")));
  }
  return specCache.get(file);
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/**
 * Our expected name (`group.leaf`) → the product's name, given the product's
 * tool names for that API. Returns {name, how} or {name: null, how}.
 */
function mapExpected(apiName, expected, productNames) {
  if (productNames.has(expected)) return { name: expected, how: "same" };
  const dot = expected.indexOf(".");
  const group = expected.slice(0, dot);
  const leaf = expected.slice(dot + 1);
  const pGroup = toCamelCase(group);
  const pLeaf = toCamelCase(leaf);
  const recased = `${pGroup}.${pLeaf}`;
  if (productNames.has(recased)) return { name: recased, how: "re-cased (rule 1)" };
  if (pLeaf === pGroup) {
    const file = APIS.find(([a]) => a === apiName)[1];
    const spec = jsonSpec(file);
    if (spec) {
      for (const [p, item] of Object.entries(spec.paths ?? {})) {
        for (const m of METHODS) {
          const op = item?.[m];
          if (!op?.operationId || toCamelCase(op.operationId) !== pLeaf) continue;
          const tag = op.tags?.[0];
          if (tag !== undefined && toCamelCase(tag) !== pGroup) continue;
          const name = `${pGroup}.${fallbackLeaf(m, p, pGroup)}`;
          if (productNames.has(name)) {
            return { name, how: `leaf = group (rule 2: ${m.toUpperCase()} ${p})` };
          }
        }
      }
    }
  }
  return { name: null, how: "unmapped" };
}

// ---------------------------------------------------------------------------
// The labelled set

function readSet(name) {
  const lines = fs.readFileSync(path.join(FIXTURES, name), "utf8").split("\n");
  if (lines[0].trim() !== "api\tquery\texpected") throw new Error(`${name}: bad header`);
  return lines
    .slice(1)
    .filter((l) => l.trim().length > 0)
    .map((line) => {
      const [api, query, expected] = line.split("\t");
      if (expected === undefined) throw new Error(`${name}: not three fields: ${line}`);
      return { api, query, expected: expected.trim().split("|") };
    });
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * q))] : NaN;
};
const ms = (x) => `${x.toFixed(1)} ms`;

// ---------------------------------------------------------------------------

async function main() {
  const version = (await cli(["--version"])).stdout.trim();
  console.log(`# the product's tool search on our labelled set`);
  console.log();
  console.log(`product: ${version} (${BIN})`);
  console.log(
    `command: node ${path.relative(process.cwd(), process.argv[1]) || process.argv[1]}` +
      `${process.argv.slice(2).map((a) => ` ${a}`).join("")} (node ${process.version}; limit ${LIMIT})`,
  );

  specServer = await serveSpecs();
  const specs = `http://127.0.0.1:${specServer.address().port}`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  console.log(`server: HOME=EXECUTOR_DATA_DIR=EXECUTOR_SCOPE_DIR=${tmp} (cwd) ${BIN} web --port ${port}`);
  console.log(
    `search: POST ${baseUrl}/api/executions {"code":"return await tools.search({query, limit: ${LIMIT}[, namespace: API]});"} ` +
      `(what \`executor tools search QUERY --limit ${LIMIT} [--namespace API] --base-url ${baseUrl}\` sends)`,
  );
  console.log();

  server = spawn(BIN, ["web", "--port", String(port)], {
    env: productEnv,
    cwd: tmp,
    stdio: ["ignore", "ignore", "ignore"],
    detached: true, // its own process group, so clean-up gets any child too
  });
  const deadline = Date.now() + 60_000;
  while (!(await canConnect(port))) {
    if (server.exitCode !== null) throw new Error(`the product's server exited (${server.exitCode})`);
    if (Date.now() > deadline) throw new Error("the product's server did not start");
    await sleep(100);
  }
  while ((await api(baseUrl, "GET", "/integrations").catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error("the product's API did not answer");
    await sleep(200);
  }

  // Add the specs.
  console.log("| api | add (`resume --action accept`) | tools |");
  console.log("|---|---|---|");
  const added = new Map(); // api -> tool count
  const refused = new Map(); // api -> reason
  for (const [name, file] of APIS) {
    const input = { spec: { kind: "url", url: `${specs}/${file}` }, slug: name };
    const paused = await cli(["call", "executor", "openapi", "addSpec", JSON.stringify(input)], {
      baseUrl,
    });
    const execution = paused.stdout.match(/^executionId:\s*(\S+)/m)?.[1];
    if (!execution) {
      const why = (paused.stdout + paused.stderr).trim().split("\n")[0];
      refused.set(name, `the add did not pause: ${why}`);
      console.log(`| ${name} | refused: ${why} | |`);
      continue;
    }
    const done = await cli(["resume", "--execution-id", execution, "--action", "accept"], {
      baseUrl,
    });
    let said = null;
    try {
      said = JSON.parse(done.stdout);
    } catch {}
    if (!said?.ok || said?.data?.toolCount === undefined) {
      const why =
        said?.error?.message ?? (done.stdout + done.stderr).trim().split("\n")[0] ?? "no answer";
      refused.set(name, why);
      console.log(`| ${name} | refused: ${why} | |`);
      continue;
    }
    const conn = await api(baseUrl, "POST", "/connections", {
      owner: "org",
      name: "main",
      integration: name,
      template: "none",
      values: {},
    });
    if (conn.status !== 200) {
      refused.set(name, `added, but no connection: HTTP ${conn.status} ${conn.text.slice(0, 200)}`);
      console.log(`| ${name} | added; connection refused: HTTP ${conn.status} | |`);
      continue;
    }
    added.set(name, said.data.toolCount);
    console.log(`| ${name} | ${ms(done.ms)} (CLI included) | ${said.data.toolCount} |`);
  }
  console.log();

  // The product's listing: its names, per API.
  const listing = await api(baseUrl, "GET", "/tools");
  if (listing.status !== 200) throw new Error(`GET /api/tools: ${listing.status}`);
  const names = new Map();
  for (const tool of listing.json) {
    if (!names.has(tool.integration)) names.set(tool.integration, new Set());
    names.get(tool.integration).add(tool.name);
  }
  const total = listing.json.length;
  console.log(
    `its listing (GET /api/tools): ${total} tools: ` +
      [...names].map(([k, v]) => `${k} ${v.size}`).join(", "),
  );
  for (const [apiName, count] of added) {
    const listed = names.get(apiName)?.size ?? 0;
    if (listed !== count) console.log(`  note: ${apiName} added ${count} tools, lists ${listed}`);
  }

  // The naming, on a known tool.
  if (added.has("github")) {
    const known = await api(baseUrl, "GET", "/tools/schema?address=tools.github.org.main.issues.create");
    const probe = await search(baseUrl, "issues create", "github", 3);
    console.log(
      `naming: GitHub's POST /repos/{owner}/{repo}/issues (tag "issues", operationId "issues/create") is ` +
        `address ${known.json?.address ?? "(not found)"}, name ${known.json?.name ?? "-"}; ` +
        `its search returns path ${probe.items?.[0]?.path ?? "-"} (name ${probe.items?.[0]?.name ?? "-"}) ` +
        `for "issues create"`,
    );
  }

  // Map the expected names.
  const sets = ["queries.tsv", "heldout.tsv"].map((f) => [f, readSet(f)]);
  const mapped = new Map(); // `${api}\t${expected}` -> {name, how}
  for (const [, queries] of sets) {
    for (const q of queries) {
      if (!added.has(q.api)) continue;
      for (const e of q.expected) {
        const key = `${q.api}\t${e}`;
        if (!mapped.has(key)) mapped.set(key, mapExpected(q.api, e, names.get(q.api) ?? new Set()));
      }
    }
  }
  const changed = [...mapped].filter(([, m]) => m.how !== "same");
  console.log(
    `expected tools: ${mapped.size} distinct, ${mapped.size - changed.length} named the same by the product` +
      (changed.length ? `; the others:` : ""),
  );
  for (const [key, m] of changed) {
    const [a, e] = key.split("\t");
    console.log(`  ${a}.org.main.${e} -> ${m.name ? `${a}.org.main.${m.name}` : "(none)"}  [${m.how}]`);
  }
  console.log();

  // Score.
  const latencies = { mixed: [], scoped: [] };
  const errors = [];
  const results = [];
  for (const [file, queries] of sets) {
    for (const mode of ["mixed", "scoped"]) {
      let scored = 0,
        skipped = 0,
        top1 = 0,
        top5 = 0,
        rr = 0,
        absent = 0,
        empty = 0;
      const perApi = new Map();
      const misses = [];
      for (const q of queries) {
        if (!added.has(q.api)) {
          skipped++;
          continue;
        }
        const want = new Set(
          q.expected
            .map((e) => mapped.get(`${q.api}\t${e}`).name)
            .filter(Boolean)
            .map((n) => `${q.api}.org.main.${n}`),
        );
        const started = performance.now();
        let page;
        try {
          page = await search(baseUrl, q.query, mode === "scoped" ? q.api : undefined, LIMIT);
        } catch (e) {
          page = { error: String(e.message ?? e) };
        }
        latencies[mode].push(performance.now() - started);
        if (page.error) errors.push(`${file} ${mode} ${q.api} ${JSON.stringify(q.query)}: ${page.error}`);
        const items = page.items ?? [];
        const idx = items.findIndex((it) => want.has(it.path));
        const rank = idx < 0 ? null : idx + 1;
        scored++;
        if (rank === null) absent++;
        if (items.length === 0) empty++;
        if (rank === 1) top1++;
        if (rank !== null && rank <= 5) top5++;
        rr += rank ? 1 / rank : 0;
        const s = perApi.get(q.api) ?? { n: 0, top1: 0, rr: 0 };
        s.n++;
        s.top1 += rank === 1 ? 1 : 0;
        s.rr += rank ? 1 / rank : 0;
        perApi.set(q.api, s);
        if (rank !== 1) {
          misses.push(
            `${String(rank ?? "-").padStart(4)}  ${q.api.padEnd(10)} ${q.query.padEnd(50)} want ${[...want][0] ?? `(unmapped ${q.expected[0]})`} got ${items[0]?.path ?? `nothing (${page.total ?? 0} matches)`}`,
          );
        }
      }
      results.push({ file, mode, scored, skipped, top1, top5, rr, absent, empty, perApi, misses });
    }
  }

  // A sample through its CLI: timed with its start-up, and checked.
  const sample = sets[0][1].filter((q) => added.has(q.api)).slice(0, CLI_SAMPLE);
  const cliTimes = [];
  let cliSame = 0;
  for (const q of sample) {
    const out = await cli(["tools", "search", q.query, "--limit", String(LIMIT)], { baseUrl });
    cliTimes.push(out.ms);
    let parsed = null;
    try {
      parsed = JSON.parse(out.stdout);
    } catch {}
    const viaHttp = await search(baseUrl, q.query, undefined, LIMIT);
    const a = (parsed?.items ?? []).map((i) => i.path).join(",");
    const b = (viaHttp.items ?? []).map((i) => i.path).join(",");
    if (parsed && a === b) cliSame++;
  }

  // Report.
  console.log(`## figures (rank = position of the expected tool in the first ${LIMIT} results; MRR counts 0 when absent)`);
  console.log();
  console.log(
    "| file | mode | queries scored | skipped (API not added) | top-1 | top-5 | MRR | expected not returned | nothing returned |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.file} | ${r.mode} | ${r.scored} | ${r.skipped} | ${pct(r.top1 / r.scored)} | ${pct(r.top5 / r.scored)} | ${(r.rr / r.scored).toFixed(3)} | ${r.absent} | ${r.empty} |`,
    );
  }
  console.log();
  if (refused.size) {
    console.log(
      `skipped: ${[...refused].map(([k, v]) => `${k} (${v})`).join("; ")}`,
    );
    console.log();
  }
  console.log("per API (both files), top-1 / MRR:");
  const apisSeen = [...new Set(results.flatMap((r) => [...r.perApi.keys()]))];
  console.log(`| api | n | mixed top-1 | mixed MRR | scoped top-1 | scoped MRR |`);
  console.log("|---|---|---|---|---|---|");
  for (const a of apisSeen) {
    const agg = (mode) => {
      const t = { n: 0, top1: 0, rr: 0 };
      for (const r of results.filter((r) => r.mode === mode)) {
        const s = r.perApi.get(a);
        if (s) {
          t.n += s.n;
          t.top1 += s.top1;
          t.rr += s.rr;
        }
      }
      return t;
    };
    const m = agg("mixed"),
      s = agg("scoped");
    console.log(
      `| ${a} | ${m.n} | ${pct(m.top1 / m.n)} | ${(m.rr / m.n).toFixed(3)} | ${pct(s.top1 / s.n)} | ${(s.rr / s.n).toFixed(3)} |`,
    );
  }
  console.log();
  console.log(
    `latency per query, over HTTP (POST /api/executions, no CLI start-up), measured here: ` +
      `mixed p50 ${ms(median(latencies.mixed))}, p90 ${ms(quantile(latencies.mixed, 0.9))} (${latencies.mixed.length}); ` +
      `scoped p50 ${ms(median(latencies.scoped))}, p90 ${ms(quantile(latencies.scoped, 0.9))} (${latencies.scoped.length}); ` +
      `over ${total} tools`,
  );
  console.log(
    `through its CLI (\`executor tools search QUERY --limit ${LIMIT} --base-url …\`, start-up included, mixed): ` +
      `p50 ${ms(median(cliTimes))} over ${cliTimes.length} queries; same ranking as over HTTP for ${cliSame}/${sample.length}`,
  );
  if (errors.length) {
    console.log();
    console.log(`errors (${errors.length}):`);
    for (const e of errors) console.log(`  ${e}`);
  } else {
    console.log("errors: none");
  }
  const unmapped = [...mapped].filter(([, m]) => !m.name);
  if (unmapped.length) {
    console.log(`unmapped expected tools (count as not found): ${unmapped.map(([k]) => k.replace("\t", ".")).join(", ")}`);
  }
  if (SHOW_MISSES) {
    for (const r of results) {
      console.log();
      console.log(`misses, ${r.file} ${r.mode}:`);
      console.log(r.misses.join("\n"));
    }
  }
}

/** The product's search, as its CLI sends it. */
async function search(baseUrl, query, namespace, limit) {
  const payload = { query, limit };
  if (namespace) payload.namespace = namespace;
  const code = `return await tools.search(${JSON.stringify(payload)});`;
  const res = await api(baseUrl, "POST", "/executions", { code });
  if (res.status !== 200) return { error: `HTTP ${res.status} ${res.text.slice(0, 200)}` };
  const body = res.json;
  if (body?.status !== "completed" || body.isError) {
    return { error: `${body?.status ?? "?"}: ${String(body?.text ?? res.text).slice(0, 200)}` };
  }
  const result = body.structured?.result;
  if (!result || !Array.isArray(result.items)) return { error: `no items: ${res.text.slice(0, 200)}` };
  return result;
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  console.error(e?.stack ?? e);
} finally {
  await stopAndRemove();
}
process.exit(failed ? 1 : 0);
