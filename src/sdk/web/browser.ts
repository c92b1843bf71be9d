/**
 * The entry of the browser build (npm run build:web-sdk): the public API of index.ts, with zod set
 * up for strict CSPs first (jitless.ts; ES modules run in import order). Tests import index.ts.
 */
import './jitless'

export * from './index'
