/**
 * Imported first by the browser build (browser.ts): zod must know before any schema is built that
 * it may not compile validators with `new Function`, since it probes for that as schemas are made.
 * Pages with a strict Content-Security-Policy (no 'unsafe-eval') would otherwise log a violation on
 * every load. The bundle has its own copy of zod, so no other zod on the page is affected.
 */
import { z } from 'zod'

z.config({ jitless: true })
