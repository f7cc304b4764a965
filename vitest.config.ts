import { defineConfig } from 'vitest/config';

// Three projects, one runner, run one after another: fast jsdom units, node-side server tests on a real
// SQLite file and loopback HTTP, and browser tests that drive Debian's Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'jsdom',
          sequence: { groupOrder: 0 },
          include: ['tests/unit/**/*.test.ts', 'tests/unit/**/*.test.tsx'],
        },
      },
      {
        test: {
          name: 'server',
          environment: 'node',
          sequence: { groupOrder: 1 },
          include: ['tests/server/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          // Last, on its own: real Chromium plus real servers need both cores.
          sequence: { groupOrder: 2 },
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          // Each file launches its own Chromium; two cores cannot take more at once.
          maxWorkers: 2,
        },
      },
    ],
  },
});
