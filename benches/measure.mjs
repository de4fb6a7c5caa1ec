#!/usr/bin/env node
// measure(label, argv): wall time and peak RSS of one command, for the
// benchmark scripts in this folder.
//
// Peak RSS comes from GNU time (`/usr/bin/time`, Debian package `time`); without it
// the script samples /proc/PID/status (VmHWM), which misses grandchildren.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";

/**
 * A file of the fixture corpus, unpacked: tests/fixtures/corpus/ keeps files
 * over 1 MiB zstd-compressed, and the Rust tests unpack the whole corpus
 * into target/test-fixtures/corpus/ (tests/support/corpus.rs). Throws with
 * the command that does it when that copy is missing.
 */
export function corpusFile(repo, relative) {
	const path = join(repo, "target/test-fixtures/corpus", relative);
	if (!existsSync(path)) {
		throw new Error(
			`${path} missing: unpack the fixture corpus first with ` +
				"`cargo test --locked -p executor-runtime --test openapi_sweep corpus_matches_its_sources_lists`",
		);
	}
	return path;
}

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


export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)];
}

/** Runs a command n times; median wall time and largest peak RSS. Throws if a run fails. */
export async function runs(label, argv, n) {
	const results = [];
	for (let i = 0; i < n; i++) {
		const r = await measure(label, argv);
		if (r.code !== 0) throw new Error(`${label} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
		results.push(r);
	}
	return { seconds: median(results.map((r) => r.seconds)), peakMiB: Math.max(...results.map((r) => r.peakMiB)) };
}
