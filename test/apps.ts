/** Where the users' apps of the tests live (test/fixtures/apps/, one folder: README.md there), and what this line runs. */
import { fileURLToPath } from 'node:url';

export const APPS = fileURLToPath(new URL('./fixtures/apps/', import.meta.url));
/** This Node line runs TypeScript (type stripping on by default, or behind the flag serve adds). */
export const stripsTypes = Boolean((process.features as { typescript?: unknown }).typescript) || process.allowedNodeEnvironmentFlags.has('--experimental-strip-types');
