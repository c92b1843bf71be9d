/**
 * A small SVG line-chart writer: cost against size, one line per series, optional log axes.
 * No dependencies; the output is a self-contained file that GitHub renders in Markdown.
 */
import { writeFileSync } from 'node:fs'

interface Series {
  name: string
  points: { x: number; y: number }[]
}

export interface ChartSpec {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  logX?: boolean
  logY?: boolean
  /** Horizontal dashed lines, e.g. a target. */
  guides?: { y: number; label: string }[]
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f']
const W = 640
const H = 380
const M = { left: 70, right: 170, top: 40, bottom: 50 }

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function label(v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`
  if (a === 0) return '0'
  return String(+v.toPrecision(3))
}

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = []
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e)
    return out
  }
  const span = hi - lo || 1
  const step0 = 10 ** Math.floor(Math.log10(span / 5))
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6) ?? step0 * 10
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v)
  return out
}

function renderChart(spec: ChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
  const guideYs = (spec.guides ?? []).map((g) => g.y)
  const xs = pts.map((p) => p.x)
  const ys = [...pts.map((p) => p.y), ...guideYs]
  let xlo = Math.min(...xs)
  let xhi = Math.max(...xs)
  let ylo = spec.logY ? Math.min(...ys.filter((y) => y > 0)) : Math.min(0, ...ys)
  let yhi = Math.max(...ys)
  if (!Number.isFinite(xlo)) [xlo, xhi] = [0, 1]
  if (!Number.isFinite(ylo) || !Number.isFinite(yhi)) [ylo, yhi] = [0, 1]
  if (spec.logX) [xlo, xhi] = [10 ** Math.floor(Math.log10(xlo)), 10 ** Math.ceil(Math.log10(xhi))]
  if (spec.logY) [ylo, yhi] = [10 ** Math.floor(Math.log10(ylo)), 10 ** Math.ceil(Math.log10(yhi))]
  else yhi = yhi === ylo ? ylo + 1 : yhi * 1.1
  if (xhi === xlo) xhi = xlo + 1
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const fx = (x: number): number =>
    M.left + (spec.logX ? Math.log10(x / xlo) / Math.log10(xhi / xlo) : (x - xlo) / (xhi - xlo)) * pw
  const fy = (y: number): number =>
    M.top + ph - (spec.logY ? Math.log10(y / ylo) / Math.log10(yhi / ylo) : (y - ylo) / (yhi - ylo)) * ph

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(spec.title)}</text>`,
  )
  for (const t of ticks(xlo, xhi, !!spec.logX)) {
    const x = fx(t)
    out.push(
      `<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle" fill="#444">${label(t)}</text>`,
    )
  }
  for (const t of ticks(ylo, yhi, !!spec.logY)) {
    const y = fy(t)
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" fill="#444">${label(t)}</text>`,
    )
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  )
  for (const g of spec.guides ?? []) {
    const y = fy(g.y)
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#999" stroke-dasharray="5 4"/>`,
      `<text x="${M.left + pw - 4}" y="${y - 4}" text-anchor="end" fill="#666">${esc(g.label)}</text>`,
    )
  }
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string
    const p = s.points.filter((q) => Number.isFinite(q.y) && (!spec.logY || q.y > 0))
    if (p.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${p.map((q) => `${fx(q.x).toFixed(1)},${fy(q.y).toFixed(1)}`).join(' ')}"/>`,
      )
    for (const q of p)
      out.push(`<circle cx="${fx(q.x).toFixed(1)}" cy="${fy(q.y).toFixed(1)}" r="3" fill="${color}"/>`)
    const ly = M.top + 8 + i * 16
    out.push(
      `<line x1="${M.left + pw + 10}" y1="${ly}" x2="${M.left + pw + 26}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${M.left + pw + 30}" y="${ly + 4}">${esc(s.name)}</text>`,
    )
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

export function writeChart(file: string, spec: ChartSpec): void {
  writeFileSync(file, renderChart(spec))
}
