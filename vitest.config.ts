import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@renderer': resolve('src/renderer/src') } },
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests start real servers and engines on real sockets; two cores, so keep it modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    environment: 'node',
  },
})
