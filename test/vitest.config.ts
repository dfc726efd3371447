import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Says once which tests are skipped for a missing Chromium or nginx (and fails CI instead).
    globalSetup: ['test/global-setup.ts'],
    // Test files start real clusters; on 2 cores running them one after another keeps timings sane.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    root: new URL('..', import.meta.url).pathname,
  },
});
