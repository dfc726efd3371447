// Part of `npm run build`: the dashboard's script is TypeScript (src/dashboard/main.ts) built from the modules the
// CLI uses; esbuild bundles it for the browser and the page carries it inline, so dist/'s dashboard.html stays one
// self-contained file (no CDN, nothing fetched but /_cluster/*). esbuild rather than a hand-made concatenation:
// it resolves the imports, drops what the page does not use, and fails the build if a Node module slips in.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const PLACEHOLDER = /<script>\/\* DASHBOARD SCRIPT:[^*]*\*\/<\/script>/;

const result = await build({
  entryPoints: [new URL('src/dashboard/main.ts', root).pathname],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome120',
  write: false,
  legalComments: 'none',
  logLevel: 'error',
});
// Inside <script>, "</script" would end the element early.
const script = result.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const template = readFileSync(new URL('src/cluster/counts/dashboard.html', root), 'utf8');
if (!PLACEHOLDER.test(template)) throw new Error('build-dashboard: the placeholder is missing from dashboard.html');
writeFileSync(new URL('dist/cluster/counts/dashboard.html', root), template.replace(PLACEHOLDER, () => `<script>\n${script}</script>`));
