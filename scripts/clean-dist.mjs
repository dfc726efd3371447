// Part of `npm run build`: dist/ starts empty, so a module deleted or moved in src/ never ships from an old build.
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
