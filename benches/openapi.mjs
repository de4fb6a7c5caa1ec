#!/usr/bin/env node
// Ingest + export of big real specs: `executor generate` (release build)
// against openapi-typescript on the same files, in one run, same machine.
//
//   cargo build --release --bin executor
//   npm ci --prefix tests/node
//   cargo test --locked -p executor-runtime --test openapi_sweep corpus_matches_its_sources_lists
//   node benches/openapi.mjs [--runs N] [SPEC...]
//
// Default specs: GitHub's REST description (13 MB JSON) and Stripe's (4 MB
// YAML) from the fixture corpus (tests/fixtures/corpus/openapi/famous),
// read where the Rust tests unpack it, target/test-fixtures/corpus (the
// third command above does that). Each tool runs N times (default 5) per
// spec; the table shows the median wall time and the largest peak RSS.
// The two tools do different work on the same input: executor parses,
// validates against the official schema, normalises every schema to JSON
// Schema 2020-12 and writes an OpenAPI 3.1 document; openapi-typescript
// parses and writes TypeScript types. The last column is executor writing
// the OpenAPI 3.0.3 document instead (`--openapi 3.0`).

import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GNU_TIME, corpusFile, runs } from "./measure.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXECUTOR = join(repo, "target/release/executor");
const OPENAPI_TS = join(repo, "tests/node/node_modules/openapi-typescript/bin/cli.js");
const DEFAULT_SPECS = [
	"openapi/famous/github-api.github.com.json",
	"openapi/famous/stripe-spec3-2023-09-12.yaml",
];


async function main(args) {
	let n = 5;
	const specs = [];
	for (let i = 0; i < args.length; i++) {
		if (args[i] === "--runs") n = Number(args[++i]);
		else specs.push(resolve(args[i]));
	}
	if (specs.length === 0) specs.push(...DEFAULT_SPECS.map((p) => corpusFile(repo, p)));
	for (const [path, hint] of [
		[EXECUTOR, "cargo build --release --bin executor"],
		[OPENAPI_TS, "npm ci --prefix tests/node"],
	]) {
		if (!existsSync(path)) throw new Error(`${path} missing: run \`${hint}\``);
	}
	if (!existsSync(GNU_TIME)) console.error(`note: ${GNU_TIME} not found (apt-get install time); sampling /proc instead`);
	const out = mkdtempSync(join(tmpdir(), "executor-bench-"));
	console.log(`runs per tool and spec: ${n} (median wall time, max peak RSS)\n`);
	console.log(`| spec | size | executor generate | openapi-typescript | time ratio | memory ratio | executor generate --openapi 3.0 |`);
	console.log(`|---|---|---|---|---|---|---|`);
	try {
		for (const spec of specs) {
			const size = `${(statSync(spec).size / 1e6).toFixed(1)} MB`;
			const ex = await runs("executor", [EXECUTOR, "generate", "--from", spec, "--namespace", "bench", "--lenient", "-o", join(out, "executor.openapi.json")], n);
			const ts = await runs("openapi-typescript", [process.execPath, OPENAPI_TS, spec, "-o", join(out, "schema.d.ts")], n);
			const v30 = await runs("executor --openapi 3.0", [EXECUTOR, "generate", "--from", spec, "--namespace", "bench", "--lenient", "--openapi", "3.0", "-o", join(out, "executor.openapi30.json")], n);
			const cell = (r) => `${r.seconds.toFixed(2)} s, ${r.peakMiB.toFixed(0)} MiB`;
			console.log(
				`| ${basename(spec)} | ${size} | ${cell(ex)} | ${cell(ts)} | ${(ts.seconds / ex.seconds).toFixed(1)}x faster | ${(ts.peakMiB / ex.peakMiB).toFixed(1)}x less | ${cell(v30)} |`,
			);
		}
	} finally {
		rmSync(out, { recursive: true, force: true });
	}
	return 0;
}

process.exitCode = await main(process.argv.slice(2));
