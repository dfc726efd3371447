/**
 * The JSON Schemas of docs/schema/ (generated from the types by `npm run schemas`), for the tests: real
 * documents validated against them, so the documented shape cannot drift from the code's.
 * Not a test file (vitest only collects *.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { expect } from 'vitest';

export type SchemaName = 'probe' | 'probe-long-lived' | 'compare' | 'browser' | 'fleet' | 'cluster-stats' | 'serve-log';

const dir = new URL('../docs/schema/', import.meta.url);
const ajv = new Ajv({ allErrors: true, strict: false });
for (const file of readdirSync(dir).filter((f) => f.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as object);

function describeError(e: ErrorObject): string {
  const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
  return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
}

/** Every way `doc` departs from the schema, one line each ([] when it conforms). */
export function schemaErrors(name: SchemaName, doc: unknown): string[] {
  const validate = ajv.getSchema(`${name}.schema.json`);
  if (!validate) throw new Error(`no schema docs/schema/${name}.schema.json (run npm run schemas)`);
  return validate(doc) ? [] : (validate.errors ?? []).map(describeError);
}

export function expectSchema(name: SchemaName, doc: unknown): void {
  expect(schemaErrors(name, doc), `${name} --json against docs/schema/${name}.schema.json`).toEqual([]);
}
