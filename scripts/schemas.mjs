// `npm run schemas`: docs/schema/*.schema.json, generated from the TypeScript types of the documents the tool
// prints (--json) or serves (/_cluster/stats) and logs (serve --log json), with their doc comments as
// descriptions. The tests validate real outputs against these files (test/schema.test.ts and the CLI tests), so
// a field renamed in the code without regenerating fails there.
// `node scripts/schemas.mjs --check` writes nothing: it exits 1 naming every file that differs from what the types
// generate (run by test/schema.test.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const DOCUMENTS = {
  probe: ['ProbeResult', 'cluster-demo probe --json'],
  'probe-long-lived': ['LongLivedProbeResult', 'cluster-demo probe --ws --json and probe --sse --json'],
  compare: ['CompareDocument', 'cluster-demo compare --json (every mode; --policies has mode "policies", --policies --ws mode "policies-ws")'],
  browser: ['BrowserResult', 'cluster-demo browser --json'],
  fleet: ['FleetDocument', 'cluster-demo fleet --json (the probe through nginx, the fleet, the balancer\'s story, and with --browser the browser document; with --lb l4,l7 each balancer\'s, under balancers)'],
  'cluster-stats': ['ClusterStatsDoc', 'GET /_cluster/stats (and the data of /_cluster/events snapshots)'],
  'serve-log': ['ServeLogEvent', 'one line of cluster-demo serve --log json'],
};

const generator = createGenerator({ path: path.join(root, 'src/index.ts'), tsconfig: path.join(root, 'tsconfig.json'), type: '*', skipTypeCheck: true, additionalProperties: false });
const check = process.argv.includes('--check');
const stale = [];
mkdirSync(path.join(root, 'docs/schema'), { recursive: true });
for (const [name, [type, title]] of Object.entries(DOCUMENTS)) {
  const schema = generator.createSchema(type);
  const file = path.join(root, 'docs/schema', `${name}.schema.json`);
  const text = `${JSON.stringify({ $id: `${name}.schema.json`, title, ...schema }, null, 2)}\n`;
  if (check) {
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) stale.push(path.relative(root, file));
    continue;
  }
  writeFileSync(file, text);
  console.log(`wrote ${path.relative(root, file)} (${type})`);
}
if (stale.length > 0) {
  console.error(`out of date with the types (run npm run schemas): ${stale.join(', ')}`);
  process.exit(1);
}
