import type { BackendChoice } from './backends'
import type { Section, TargetCheck } from './report'

interface BenchContext {
  quick: boolean
  /** Where this run writes its JSON and SVG files. */
  outDir: string
  /** A temporary folder of this scenario, removed afterwards. */
  tmp: string
  /** Repository root. */
  root: string
  log(message: string): void
  /**
   * The storage backends of the server scenarios (--backends; sqlite only unless the scenario sets
   * usesBackends): bench/lib/backends.ts.
   */
  backends: BackendChoice
}

export interface ScenarioOutput {
  params: Record<string, unknown>
  sections: Section[]
  targets: TargetCheck[]
  charts: { file: string; caption: string }[]
  notes: string[]
  raw: unknown
  /** Set (with the reason) when the scenario cannot run on this machine. */
  skipped?: string
}

export interface Scenario {
  id: string
  /** Short names accepted by --only besides the id and its number. */
  aliases: string[]
  title: string
  /** Runs on each of ctx.backends (sqlite, pg-1, pg-3): run.ts checks PostgreSQL and NATS first. */
  usesBackends?: boolean
  run(ctx: BenchContext): Promise<ScenarioOutput>
}

/** A ratio check: `measured / allowed`, met when ≤ 1. */
export function target(
  what: string,
  targetText: string,
  measuredText: string,
  measured: number,
  allowed: number,
  higherIsBetter = false,
): TargetCheck {
  if (!Number.isFinite(measured) || !Number.isFinite(allowed) || allowed === 0)
    return { what, target: targetText, measured: measuredText, ratio: null, met: null }
  const ratio = higherIsBetter ? allowed / measured : measured / allowed
  return {
    what,
    target: targetText,
    measured: measuredText,
    ratio: Math.round(ratio * 1000) / 1000,
    met: ratio <= 1,
  }
}

export function emptyOutput(): ScenarioOutput {
  return { params: {}, sections: [], targets: [], charts: [], notes: [], raw: {} }
}
