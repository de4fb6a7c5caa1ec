#!/usr/bin/env node
// Validate OpenAPI 3.1 documents with two independent validators:
//   1. @seriousme/openapi-schema-validator (JSON Schema of OAS 3.1), extended so
//      that every Schema Object is also checked against the OAS 3.1 dialect
//      (JSON Schema 2020-12 meta-schema + the OAS base vocabulary);
//   2. Redocly's linter (@redocly/openapi-core), `minimal` ruleset: its `struct`
//      and `no-unresolved-refs` rules are errors, style rules never fail a file.
//
// usage: node tests/node/validate-openapi.mjs [--any-version] [--warnings] FILE_OR_DIR...
//   Directories are read non-recursively for *.json files.
//   --any-version  also accept Swagger 2.0 / OAS 3.0 / 3.2 documents (validated as their own version)
//   --warnings     also print Redocly warnings (they never fail a file)
// Output: `ok FILE` or `FAIL FILE` plus indented `pointer: message` lines,
// then `N passed, M failed`. Exit code 1 if any file failed.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { Validator } from "@seriousme/openapi-schema-validator";
import { BaseResolver, Source, createConfig, lintDocument } from "@redocly/openapi-core";

const addFormats = addFormatsModule.default ?? addFormatsModule;
const MAX_ERRORS_PER_VALIDATOR = 20;

// --- OAS 3.1 Schema Object dialect (from the OAS spec's published meta-schemas) ---
const OAS_META_ID = "https://spec.openapis.org/oas/3.1/meta/2024-11-10";
const OAS_DIALECT_ID = "https://spec.openapis.org/oas/3.1/dialect/2024-11-10";
const extensible = { patternProperties: { "^x-": true } };
const OAS_META = {
	$id: OAS_META_ID,
	$schema: "https://json-schema.org/draft/2020-12/schema",
	title: "OAS Base Vocabulary",
	$dynamicAnchor: "meta",
	type: ["object", "boolean"],
	properties: {
		example: true,
		discriminator: { $ref: "#/$defs/discriminator" },
		externalDocs: { $ref: "#/$defs/external-docs" },
		xml: { $ref: "#/$defs/xml" },
	},
	$defs: {
		extensible,
		discriminator: {
			$ref: "#/$defs/extensible",
			type: "object",
			properties: {
				mapping: { type: "object", additionalProperties: { type: "string" } },
				propertyName: { type: "string" },
			},
			required: ["propertyName"],
			unevaluatedProperties: false,
		},
		"external-docs": {
			$ref: "#/$defs/extensible",
			type: "object",
			properties: {
				url: { type: "string", format: "uri-reference" },
				description: { type: "string" },
			},
			required: ["url"],
			unevaluatedProperties: false,
		},
		xml: {
			$ref: "#/$defs/extensible",
			type: "object",
			properties: {
				name: { type: "string" },
				namespace: { type: "string", format: "uri" },
				prefix: { type: "string" },
				attribute: { type: "boolean" },
				wrapped: { type: "boolean" },
			},
			unevaluatedProperties: false,
		},
	},
};
const OAS_DIALECT = {
	$id: OAS_DIALECT_ID,
	$schema: "https://json-schema.org/draft/2020-12/schema",
	title: "OpenAPI 3.1 Schema Object Dialect",
	$dynamicAnchor: "meta",
	allOf: [{ $ref: "https://json-schema.org/draft/2020-12/schema" }, { $ref: OAS_META_ID }],
};

// The library ships the OAS 3.1 schema "without Schema Object validation"
// (`$defs/schema` accepts any object or boolean). This subclass swaps that
// definition for the OAS dialect, so Schema Objects are validated as well.
class DialectValidator extends Validator {
	getAjvValidator(version) {
		if (version !== "3.1") return super.getAjvValidator(version);
		if (!this.ajvValidators[version]) {
			const pkgDir = dirname(fileURLToPath(import.meta.resolve("@seriousme/openapi-schema-validator")));
			const schema = JSON.parse(readFileSync(join(pkgDir, "schemas/v3.1/schema.json"), "utf8"));
			if (!schema.$defs?.schema) throw new Error("unexpected layout of the library's OAS 3.1 schema");
			schema.$defs.schema = { $comment: schema.$defs.schema.$comment, $ref: OAS_DIALECT_ID };
			const ajv = new Ajv2020({ ...this.ajvOptions, strict: false });
			addFormats(ajv);
			ajv.addFormat("media-range", true);
			ajv.addSchema(OAS_META);
			ajv.addSchema(OAS_DIALECT);
			this.ajvValidators[version] = ajv.compile(schema);
		}
		return this.ajvValidators[version];
	}
}

const redoclyConfig = await createConfig({
	extends: ["minimal"],
	rules: {
		struct: "error",
		"no-unresolved-refs": "error",
		// style, not structure: `minimal` makes it an error
		"no-server-trailing-slash": "warn",
	},
});

function listFiles(args) {
	const files = [];
	for (const arg of args) {
		if (statSync(arg).isDirectory()) {
			for (const name of readdirSync(arg).sort()) {
				if (name.endsWith(".json") && statSync(join(arg, name)).isFile()) files.push(join(arg, name));
			}
		} else {
			files.push(arg);
		}
	}
	return files;
}

function ajvErrors(errors) {
	if (typeof errors === "string") return [`#: ${errors}`];
	const seen = new Set();
	const out = [];
	for (const e of errors ?? []) {
		const params = e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : "";
		const line = `#${e.instancePath}: ${e.message}${params}`;
		if (!seen.has(line)) {
			seen.add(line);
			out.push(line);
		}
	}
	return out;
}

async function validateFile(file, validator, { anyVersion, warnings }) {
	const errors = [];
	const notes = [];
	let text;
	let spec;
	try {
		text = readFileSync(file, "utf8").replace(/^\uFEFF/, "");
		spec = JSON.parse(text);
	} catch (err) {
		return { errors: [`#: cannot read or parse: ${err.message}`], notes };
	}
	if (!anyVersion && !(typeof spec?.openapi === "string" && /^3\.1\.\d+/.test(spec.openapi))) {
		errors.push(`#/openapi: not an OpenAPI 3.1 document (openapi: ${JSON.stringify(spec?.openapi)})`);
	}

	// 1. seriousme (+ Schema Object dialect). It does not mutate the input.
	try {
		const res = await validator.validate(spec);
		// Known seriousme limitation: it takes every `$ref` key for a reference,
		// so a schema with a *property* named `$ref` (Kubernetes' JSONSchemaProps)
		// stops it before validation starts. Such a document is left to Redocly,
		// which reads schemas structurally; the note says so in the output.
		if (!res.valid && typeof res.errors === "string" && res.errors.includes("[object Object]") && hasRefProperty(spec)) {
			notes.push("seriousme skipped: a schema has a property named $ref; validated by Redocly only");
		} else if (!res.valid) {
			const list = ajvErrors(res.errors);
			for (const line of list.slice(0, MAX_ERRORS_PER_VALIDATOR)) errors.push(`[seriousme] ${line}`);
			if (list.length > MAX_ERRORS_PER_VALIDATOR) errors.push(`[seriousme] ... ${list.length - MAX_ERRORS_PER_VALIDATOR} more`);
		}
	} catch (err) {
		errors.push(`[seriousme] #: validator crashed: ${err.message}`);
	}

	// 2. Redocly, on the already parsed document (no second parse of big files).
	try {
		const document = { source: new Source(resolve(file), text, "application/json"), parsed: spec };
		const problems = await lintDocument({
			document,
			config: redoclyConfig,
			externalRefResolver: new BaseResolver(redoclyConfig.resolve),
		});
		let shown = 0;
		let hidden = 0;
		for (const p of problems) {
			if (p.ignored) continue;
			const pointer = p.location?.[0]?.pointer ?? "#";
			const line = `[redocly ${p.ruleId}] ${pointer}: ${p.message}`;
			if (p.severity === "error") {
				if (shown++ < MAX_ERRORS_PER_VALIDATOR) errors.push(line);
				else hidden++;
			} else if (warnings) {
				notes.push(`(${p.severity}) ${line}`);
			}
		}
		if (hidden) errors.push(`[redocly] ... ${hidden} more`);
	} catch (err) {
		errors.push(`[redocly] #: linter crashed: ${err.message}`);
	}
	return { errors, notes };
}

/** Whether some `properties` map has a key `$ref` whose value is an object. */
function hasRefProperty(node) {
	if (Array.isArray(node)) return node.some(hasRefProperty);
	if (node === null || typeof node !== "object") return false;
	const props = node.properties;
	if (props && typeof props === "object" && props.$ref && typeof props.$ref === "object") return true;
	return Object.values(node).some(hasRefProperty);
}

async function main() {
	const argv = process.argv.slice(2);
	const opts = { anyVersion: false, warnings: false };
	const paths = [];
	for (const a of argv) {
		if (a === "--any-version") opts.anyVersion = true;
		else if (a === "--warnings") opts.warnings = true;
		else if (a === "-h" || a === "--help") {
			console.log("usage: node validate-openapi.mjs [--any-version] [--warnings] FILE_OR_DIR...");
			return 0;
		} else paths.push(a);
	}
	if (paths.length === 0) {
		console.error("usage: node validate-openapi.mjs [--any-version] [--warnings] FILE_OR_DIR...");
		return 2;
	}
	const validator = new DialectValidator();
	let passed = 0;
	let failed = 0;
	for (const file of listFiles(paths)) {
		const { errors, notes } = await validateFile(file, validator, opts);
		if (errors.length === 0) {
			passed++;
			console.log(`ok ${file}`);
		} else {
			failed++;
			console.log(`FAIL ${file}`);
			for (const e of errors) console.log(`    ${e}`);
		}
		for (const n of notes) console.log(`    ${n}`);
	}
	console.log(`${passed} passed, ${failed} failed`);
	return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
