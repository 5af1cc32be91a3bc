// Runs the standard load scenarios against Quire and the reference server
// (y-websocket@1.5.4 bin/server.js), one fresh server per run, and prints the
// figures side by side as Markdown.
//
//   node e2e/load/compare.mjs [scenario…]        (default: all)
//
// Env: QUIRE_BIN, LOAD_BIN (prebuilt binaries; see run.sh), SERVERS
// (default "quire,y-websocket"), OUT (folder for each run's JSON report),
// REPEAT (runs of each scenario on each server, alternating servers; the
// machine is shared and noisy, so compare spreads, not single runs).
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const scenarios = {
  '1k': ['-docs', '100', '-clients', '10', '-rate', '2', '-duration', '30s'],
  '10k': ['-docs', '1000', '-clients', '10', '-rate', '0.2', '-duration', '30s'],
  '12k': ['-docs', '1200', '-clients', '10', '-rate', '1', '-duration', '30s', '-drain', '60s'],
  idle5k: ['-idle', '-docs', '500', '-clients', '10', '-duration', '10s']
}
const servers = (process.env.SERVERS || 'quire,y-websocket').split(',')
const repeat = Math.max(1, Number(process.env.REPEAT || 1))
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios)
const out = process.env.OUT || path.join(process.env.TMPDIR || '/tmp', 'quire-load-results')
mkdirSync(out, { recursive: true })

const f = (x, d = 1) => (x === undefined || x === null) ? '—' : Number(x).toFixed(d)
const rows = []
for (const name of wanted) {
  const args = scenarios[name]
  if (!args) throw new Error(`unknown scenario ${name}: ${Object.keys(scenarios).join(', ')}`)
  for (let run = 1; run <= repeat; run++) for (const server of servers) {
    const label = repeat > 1 ? `${name} #${run}` : name
    process.stderr.write(`== ${label} on ${server}\n`)
    const r = spawnSync(path.join(here, 'run.sh'), [server, '-json', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
    process.stderr.write(r.stderr.split('\n').filter(l => !l.includes('msg=connecting')).join('\n'))
    let rep
    try {
      rep = JSON.parse(r.stdout)
    } catch {
      rows.push(`| ${label} | ${server} | run failed (exit ${r.status}) |`)
      continue
    }
    writeFileSync(path.join(out, `${name}-${server}${repeat > 1 ? '-' + run : ''}.json`), r.stdout)
    const s = rep.server || {}
    const t = rep.tool || {}
    if (rep.mode === 'idle') {
      rows.push(`| ${label} | ${server} | ${rep.connect.ok}/${rep.connections} idle | | | | ` +
        `RSS ${f(s.rss_start_mib)}→${f(s.rss_end_mib)} MiB: **${f(s.rss_per_conn_kib)} KiB/conn** | tool ${f(t.rss_per_conn_kib)} KiB/conn | ${rep.ok ? 'OK' : 'FAILED: ' + rep.failures.join('; ')} |`)
      continue
    }
    const l = rep.latency
    const d = rep.delivery
    rows.push(`| ${label} | ${server} | ${f(rep.edits.per_second, 0)} edits/s | ` +
      `${f(l.p50_ms, 2)} / ${f(l.p95_ms, 2)} / ${f(l.p99_ms, 2)} / ${f(l.max_ms, 2)} | ` +
      `${d.delivered}/${d.expected}${d.live_expected !== d.expected ? ` (to open conns ${d.live_delivered}/${d.live_expected}; ${rep.disconnects} dropped)` : ''} | ${rep.verify.diverged}/${rep.verify.docs}${rep.verify.unverified ? ` (${rep.verify.unverified} unfetched)` : ''} | ` +
      `CPU ${f(s.cpu_seconds, 2)} s (${f(s.cpu_percent, 0)}%), ${f(s.cpu_us_per_delivered)} µs/delivered; RSS ${f(s.rss_connected_mib)}→${f(s.rss_end_mib)} MiB (peak ${f(s.peak_rss_mib)}) | ` +
      `CPU ${f(t.cpu_seconds, 2)} s, ${f(t.cpu_us_per_delivered)} µs/delivered; lag p99 ${f(rep.schedule_lag.p99_ms)} ms; backlog tool ${rep.max_backlog.tool_rx_bytes} B / server ${rep.max_backlog.server_rx_bytes} B | ` +
      `${rep.ok ? 'OK' : 'FAILED: ' + rep.failures.join('; ')} |`)
  }
}
console.log('| scenario | server | load | latency p50 / p95 / p99 / max (ms) | delivered/expected | diverged | server | tool | result |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
