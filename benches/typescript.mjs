#!/usr/bin/env node
// The TypeScript client against openapi-typescript on the same catalog:
// generation time, then `tsc --strict --noEmit` time on each output.
//
//   cargo build --release --bin executor
//   npm ci --prefix tests/node
//   cargo test --locked -p executor-runtime --test openapi_sweep corpus_matches_its_sources_lists
//   node benches/typescript.mjs [--runs N] [SPEC]
//
// Default spec: GitHub's REST description from the fixture corpus
// (tests/fixtures/corpus/openapi/famous), read where the Rust tests unpack
// it, target/test-fixtures/corpus (the third command above does that).
// openapi-typescript reads executor's OpenAPI export of the same catalog,
// so both files describe exactly the same tools.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { corpusFile, runs } from "./measure.mjs";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EXECUTOR = join(repo, "target/release/executor");
const NODE_BIN = join(repo, "tests/node/node_modules/.bin");


const args = process.argv.slice(2);
let n = 3;
let spec = null;
for (let i = 0; i < args.length; i++) {
	if (args[i] === "--runs") n = Number(args[++i]);
	else spec = resolve(args[i]);
}
spec ??= corpusFile(repo, "openapi/famous/github-api.github.com.json");
const out = mkdtempSync(join(tmpdir(), "executor-ts-bench-"));
try {
	const ours = join(out, "executor.gen.ts");
	const exported = join(out, "executor.openapi.json");
	const theirs = join(out, "executor-api.d.ts");
	const genOurs = await runs("executor", [EXECUTOR, "generate", "--from", spec, "-n", "github", "--lenient", "--format", "typescript", "-o", ours], n);
	await runs("export", [EXECUTOR, "generate", "--from", spec, "-n", "github", "--lenient", "-o", exported], 1);
	const genTheirs = await runs("openapi-typescript", [join(NODE_BIN, "openapi-typescript"), exported, "-o", theirs], n);
	const tscArgs = ["--strict", "--noEmit", "--target", "es2022", "--lib", "es2022", "--module", "nodenext", "--skipLibCheck", "false"];
	const tscOurs = await runs("tsc ours", [join(NODE_BIN, "tsc"), ...tscArgs.slice(0, -2), ours], n);
	const tscTheirs = await runs("tsc theirs", [join(NODE_BIN, "tsc"), ...tscArgs.slice(0, -2), theirs], n);
	const kb = (p) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
	console.log(`spec: ${spec}; ${n} runs each, median wall time, max peak RSS\n`);
	console.log("| artifact | generate | size | tsc --strict --noEmit |");
	console.log("|---|---|---|---|");
	console.log(`| executor.gen.ts (client + types) | ${genOurs.seconds.toFixed(2)} s, ${genOurs.peakMiB.toFixed(0)} MiB | ${kb(ours)} | ${tscOurs.seconds.toFixed(2)} s, ${tscOurs.peakMiB.toFixed(0)} MiB |`);
	console.log(`| openapi-typescript of the export (types only) | ${genTheirs.seconds.toFixed(2)} s, ${genTheirs.peakMiB.toFixed(0)} MiB | ${kb(theirs)} | ${tscTheirs.seconds.toFixed(2)} s, ${tscTheirs.peakMiB.toFixed(0)} MiB |`);
} finally {
	rmSync(out, { recursive: true, force: true });
}
