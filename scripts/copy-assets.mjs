// Part of `npm run build`: tsc compiles src/ to dist/; the files it does not compile (the dashboard page) are
// copied beside their modules, so dist/ runs on its own.
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith('.ts') || (entry.parentPath ?? entry.path).includes(`${path.sep}src${path.sep}dashboard`)) continue;
  const from = path.join(entry.parentPath ?? entry.path, entry.name);
  cpSync(from, path.join(root, 'dist', path.relative(path.join(root, 'src'), from)));
}
