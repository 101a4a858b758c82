import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Postgres and Redis for the tests: the configured servers, or embedded ones (test/support/servers.ts)
    globalSetup: ['test/support/global-servers.ts'],
    reporters: ['default'],
  },
});
