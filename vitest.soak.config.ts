import { defineConfig } from 'vitest/config'

/**
 * `npm run soak`: the long runs (see soak/run.ts). The fuzz properties of the test suite run here
 * with FUZZ_RUNS=100000; the SIGKILL burst with 10,000 messages. Files run one at a time.
 */
export default defineConfig({
  test: {
    include: [
      'soak/**/*.soak.ts',
      'tests/fuzz/**/*.test.ts',
      'tests/shared/receipts.test.ts',
      'tests/hosts/handlers.test.ts',
    ],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60 * 60 * 1000,
    hookTimeout: 10 * 60 * 1000,
  },
})
