// End-to-end tests: the built renderer in Debian's Chromium against `effects-studio serve`, and Electron where it runs.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.test.ts', 'tests/electron/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // One browser and one studio at a time: the build machines have two cores.
    fileParallelism: false,
    globalSetup: ['tests/e2e/support/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
