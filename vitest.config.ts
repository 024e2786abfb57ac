// Unit tests run under plain Node: everything but the thin Electron shell is testable here.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Source errors are the typecheck script's job; here only the *.test-d.ts assertions count.
    typecheck: { enabled: true, include: ['tests/unit/**/*.test-d.ts'], tsconfig: './tsconfig.node.json', ignoreSourceErrors: true },
  },
});
