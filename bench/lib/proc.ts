/**
 * CPU time and memory of a process from /proc (Linux): utime + stime of /proc/<pid>/stat in clock
 * ticks, VmRSS / VmHWM of /proc/<pid>/status.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let ticks: number | undefined
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticks = 100
    }
  }
  return ticks
}

/** User and system CPU seconds a process has used so far; its reaped children are not included. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() }
}

/** CPU seconds (user + system) a process has used so far; its reaped children are not included. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid)
  return user + system
}

export interface Memory {
  rssMiB: number
  peakRssMiB: number
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  return { rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 }
}

/** Pids whose command line contains `needle` (to find the BEAM of an ejabberd node we started). */
export function pidsWithCmdline(needle: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmd.includes(needle)) found.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return found
}

/** CPU seconds of this process (the load generator). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/** Pids whose /proc/<pid>/comm is exactly `name` (e.g. every `postgres` process: postmaster, backends, writers). */
export function pidsNamed(name: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) found.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return found
}

/** CPU seconds of each of `pids` now (those that ended meanwhile are left out). */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>()
  for (const pid of pids) {
    try {
      out.set(pid, cpuSeconds(pid))
    } catch {
      // ended meanwhile
    }
  }
  return out
}

/**
 * CPU seconds a set of processes used between two snapshots: a process that appeared meanwhile
 * counts from 0 (a new PostgreSQL backend); one that ended meanwhile is lost (its last ticks cannot
 * be read any more), which is why the bench keeps its connections open over a measured window.
 */
export function cpuDelta(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let sum = 0
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0)
  return sum
}
