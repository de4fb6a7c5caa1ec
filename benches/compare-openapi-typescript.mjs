#!/usr/bin/env node
// Wall time and peak RSS of generating TypeScript from OpenAPI specs.
//
// usage:
//   node benches/compare-openapi-typescript.mjs SPEC...
//       runs openapi-typescript (from tests/node/node_modules; `npm ci` there first) on each spec
//   node benches/compare-openapi-typescript.mjs --cmd LABEL -- ARGV...
//       measures any one command
//
// Peak RSS comes from GNU time (`/usr/bin/time`, Debian package `time`); without it
// the script samples /proc/PID/status (VmHWM), which misses grandchildren.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GNU_TIME = "/usr/bin/time";
const OPENAPI_TS = join(repo, "tests/node/node_modules/openapi-typescript/bin/cli.js");

/**
 * Run argv to completion; resolve to { seconds, peakMiB, code, stderr }.
 * `seconds` is wall time; `peakMiB` the peak resident set of the process.
 */
export async function measure(label, argv, { quiet = true } = {}) {
	const useGnuTime = existsSync(GNU_TIME);
	const work = mkdtempSync(join(tmpdir(), "measure-"));
	const timeFile = join(work, "time.txt");
	const full = useGnuTime ? [GNU_TIME, "-o", timeFile, "-f", "%e %M", ...argv] : argv;
	const started = process.hrtime.bigint();
	const child = spawn(full[0], full.slice(1), { stdio: ["ignore", quiet ? "ignore" : "inherit", "pipe"] });
	let stderr = "";
	child.stderr.on("data", (d) => {
		stderr += d;
	});
	let sampledKiB = 0;
	const sampler = useGnuTime
		? null
		: setInterval(() => {
				try {
					const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
					if (m) sampledKiB = Math.max(sampledKiB, Number(m[1]));
				} catch {}
			}, 20);
	const code = await new Promise((res, rej) => {
		child.on("error", rej);
		child.on("close", (c) => res(c));
	});
	const wall = Number(process.hrtime.bigint() - started) / 1e9;
	if (sampler) clearInterval(sampler);
	let seconds = wall;
	let peakKiB = sampledKiB;
	if (useGnuTime) {
		// GNU time prefixes "Command exited with non-zero status N" on failure; the numbers are the last line
		const lines = readFileSync(timeFile, "utf8").trim().split("\n");
		const [e, m] = lines[lines.length - 1].split(" ");
		seconds = Number(e);
		peakKiB = Number(m);
	}
	rmSync(work, { recursive: true, force: true });
	return { label, seconds, peakMiB: peakKiB / 1024, code, stderr };
}

function report(name, r, extra = "") {
	const status = r.code === 0 ? "" : `  FAILED (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
	console.log(`${r.label.padEnd(20)} ${name.padEnd(40)} ${r.seconds.toFixed(2).padStart(7)} s ${r.peakMiB.toFixed(0).padStart(6)} MiB${extra}${status}`);
}

async function main(args) {
	if (args[0] === "--cmd") {
		const sep = args.indexOf("--");
		if (sep !== 2 || args.length < 4) throw new Error("usage: --cmd LABEL -- ARGV...");
		const r = await measure(args[1], args.slice(3));
		report(args[1], r);
		return r.code === 0 ? 0 : 1;
	}
	if (args.length === 0 || args[0].startsWith("-")) {
		console.error("usage: compare-openapi-typescript.mjs SPEC... | --cmd LABEL -- ARGV...");
		return 2;
	}
	if (!existsSync(OPENAPI_TS)) throw new Error(`${OPENAPI_TS} missing: run \`npm ci\` in tests/node`);
	if (!existsSync(GNU_TIME)) console.error(`note: ${GNU_TIME} not found (apt-get install time); sampling /proc instead`);
	const out = mkdtempSync(join(tmpdir(), "openapi-ts-"));
	let failed = 0;
	try {
		for (const spec of args) {
			const target = join(out, `${basename(spec)}.d.ts`);
			const r = await measure("openapi-typescript", [process.execPath, OPENAPI_TS, resolve(spec), "-o", target]);
			const size = existsSync(target) ? `  (${(statSync(target).size / 1024).toFixed(0)} KiB of .d.ts)` : "";
			report(basename(spec), r, size);
			if (r.code !== 0) failed++;
		}
	} finally {
		rmSync(out, { recursive: true, force: true });
	}
	return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	process.exitCode = await main(process.argv.slice(2));
}
