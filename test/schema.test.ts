/**
 * docs/schema/*.schema.json against documents recorded from real runs (test/fixtures/results/); the CLI tests
 * check live output the same way. A renamed field fails: shown below with its messages.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectSchema, schemaErrors, type SchemaName } from './schema.js';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/results/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

describe('JSON Schemas against recorded documents', () => {
  it('docs/schema/ is what the types generate (npm run schemas)', () => {
    const root = new URL('..', import.meta.url).pathname;
    expect(() => execFileSync(process.execPath, ['scripts/schemas.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  }, 30_000);

  const cases: Array<[string, SchemaName]> = [
    ['probe', 'probe'],
    ['probe-chaos', 'probe'],
    ['compare', 'compare'],
    ['compare-policies', 'compare'],
    ['browser', 'browser'],
    ['fleet', 'fleet'],
    ['fleet-l4-l7', 'fleet'],
  ];
  for (const [file, schema] of cases) {
    it(`${file}.json conforms to ${schema}.schema.json`, () => expectSchema(schema, fixture(file)));
  }

  it('a renamed field fails, naming the field that is missing and the one that is not documented', () => {
    const doc = fixture('probe');
    const routes = doc.routes as Array<Record<string, unknown>>;
    const { workersSeen, ...rest } = routes[0]!;
    routes[0] = { ...rest, workersSeenCount: workersSeen };
    expect(schemaErrors('probe', doc)).toEqual(["/routes/0 must have required property 'workersSeen'", '/routes/0 must NOT have additional properties (workersSeenCount)']);
  });

  it('a field of the wrong type fails too', () => {
    const doc = { ...fixture('browser'), protocols: 'h2' };
    expect(schemaErrors('browser', doc)).toEqual(['/protocols must be array']);
  });
});
