/**
 * How many generated inputs each fuzz property gets: a few thousand in `npm test`, FUZZ_RUNS in the
 * soak (`npm run soak` sets 100000).
 */
export function fuzzRuns(inTestSuite: number): number {
  const fromEnv = Number(process.env.FUZZ_RUNS)
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : inTestSuite
}

/** A timeout that grows with the runs, so the soak's long runs are not cut off. */
export function fuzzTimeout(runs: number, msPerRun: number): number {
  return Math.max(30_000, runs * msPerRun)
}
