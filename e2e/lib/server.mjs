// The Quire server as the end-to-end suites (e2e/yjs, e2e/hocuspocus) meet it: the real binary,
// built once, started on 127.0.0.1 with a random port and a temporary data directory, restarted on
// the same port and data, killed with SIGKILL, and always stopped at the end (no orphans, even when
// a test fails or the run is interrupted). Plain Node, no dependencies: suites import it by path.
import { spawn, execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import net from 'node:net'

const execFileP = promisify(execFile)
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

// Flag names of cmd/quire, in one place so a rename touches one line.
export const FLAGS = {
  addr: '--addr',
  dataDir: '--data-dir',
  allowedOrigins: '--allowed-origins',
  maxMessageBytes: '--max-message-bytes',
  sessionQueueBytes: '--session-queue-bytes',
  compactUpdates: '--compact-updates',
  idleTimeout: '--idle-timeout',
  createOnConnect: '--create-on-connect'
}

const live = new Set() // servers with a running process
const dataDirs = new Set() // data directories not yet removed
const killAllNow = () => {
  for (const s of live) {
    try { s.proc.kill('SIGKILL') } catch {}
  }
  for (const dir of dataDirs) {
    try { rmSync(dir, { recursive: true, force: true }) } catch {}
  }
}
process.on('exit', killAllNow)
for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(sig, () => { killAllNow(); process.exit(128 + num) })
}

let builtBin = null
/**
 * Path of the quire binary: $QUIRE_BIN if set (the Makefile builds it once for the whole run),
 * otherwise `go build` into a temporary folder, once per test process.
 */
export async function quireBinary () {
  if (process.env.QUIRE_BIN) return resolve(process.env.QUIRE_BIN)
  if (builtBin) return builtBin
  builtBin = (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quire-e2e-bin-'))
    const bin = join(dir, 'quire')
    process.on('exit', () => { try { rmSync(dir, { recursive: true, force: true }) } catch {} })
    await execFileP('go', ['build', '-o', bin, './cmd/quire'], { cwd: repoRoot, maxBuffer: 1 << 24 })
    return bin
  })()
  return builtBin
}

/** A free TCP port on 127.0.0.1 (only for the reference server, which cannot report its own). */
export async function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * One server process (and its successors after restarts) on one data directory and, after the
 * first start, one fixed port.
 */
export class Server {
  /**
   * @param {object} opts
   * @param {Record<string,string|number>} [opts.flags] extra flags, by FLAGS key or literal '--name'
   * @param {Record<string,string>} [opts.env]
   * @param {string} [opts.ref] path to y-websocket@1.5.4 bin/server.js: run the reference server
   *   instead of Quire (development aid; only the behaviour both share applies)
   */
  constructor ({ flags = {}, env = {}, ref = process.env.QUIRE_E2E_REF_SERVER } = {}) {
    this.flags = flags
    this.env = env
    this.ref = ref || null
    this.port = 0
    this.dataDir = null
    this.proc = null
    this.log = [] // every line the server wrote, across restarts
    this.exits = [] // { code, signal } of every process that ended
  }

  get httpURL () { return `http://127.0.0.1:${this.port}` }
  /** Base URL for WebsocketProvider: the provider appends '/' + docID. */
  get wsBase () { return this.ref ? `ws://127.0.0.1:${this.port}` : `ws://127.0.0.1:${this.port}/ws` }
  docURL (docID) { return `${this.wsBase}/${encodeURIComponent(docID)}` }

  args () {
    const out = [FLAGS.addr, `127.0.0.1:${this.port}`, FLAGS.dataDir, this.dataDir]
    for (const [k, v] of Object.entries(this.flags)) {
      out.push(`${FLAGS[k] ?? k}=${v}`) // --name=value works for every flag type, booleans included
    }
    return out
  }

  async start () {
    if (this.proc) throw new Error('server already running')
    if (!this.dataDir) {
      this.dataDir = await mkdtemp(join(tmpdir(), 'quire-e2e-data-'))
      dataDirs.add(this.dataDir)
    }
    let cmd, args, env
    if (this.ref) {
      if (!this.port) this.port = await freePort()
      cmd = process.execPath
      args = [this.ref]
      env = { ...process.env, HOST: '127.0.0.1', PORT: String(this.port), ...this.env }
    } else {
      cmd = await quireBinary()
      args = this.args()
      // QUIRE_* variables are the server's configuration: a developer's exported QUIRE_ADMIN_KEY
      // must not change what the tests see. Only flags and opts.env configure it here.
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QUIRE_')))
      env = { ...inherited, ...this.env }
    }
    const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    live.add(this)
    const exited = new Promise(resolve => proc.once('exit', (code, signal) => {
      this.exits.push({ code, signal })
      live.delete(this)
      if (this.proc === proc) this.proc = null
      resolve({ code, signal })
    }))
    proc.exited = exited
    const ready = new Promise((resolve, reject) => {
      const onLine = (line) => {
        this.log.push(line)
        if (process.env.QUIRE_E2E_VERBOSE) process.stderr.write(`[quire:${this.port}] ${line}\n`)
        const addr = this.ref ? (/running at/.test(line) ? `127.0.0.1:${this.port}` : null) : listeningAddr(line)
        if (addr) resolve(addr)
      }
      lines(proc.stdout, onLine)
      lines(proc.stderr, onLine)
      proc.once('error', reject)
      exited.then(({ code, signal }) => reject(new Error(
        `server exited before listening (code ${code}, signal ${signal}):\n${this.log.slice(-20).join('\n')}`)))
    })
    let timer
    const timeout = new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not log "listening" within 15 s:\n${this.log.slice(-20).join('\n')}`)), 15000)
    })
    try {
      const addr = await Promise.race([ready, timeout])
      this.port = Number(addr.split(':').pop())
    } catch (err) {
      await this.kill()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return this
  }

  /** Graceful stop: SIGTERM, wait for the exit (SIGKILL after `graceMs`). Returns the exit. */
  async stop (graceMs = 10000) {
    const proc = this.proc
    if (!proc) return null
    proc.kill('SIGTERM')
    const t = setTimeout(() => { try { proc.kill('SIGKILL') } catch {} }, graceMs)
    const ex = await proc.exited
    clearTimeout(t)
    return ex
  }

  /** Crash: SIGKILL, no chance to flush anything. */
  async kill () {
    const proc = this.proc
    if (!proc) return null
    proc.kill('SIGKILL')
    return proc.exited
  }

  /** Graceful stop, then start again on the same port and data directory. */
  async restart () {
    await this.stop()
    return this.start()
  }

  /** Stop and remove the data directory. Safe to call twice. */
  async dispose () {
    await this.stop(3000)
    if (this.dataDir) {
      await rm(this.dataDir, { recursive: true, force: true })
      dataDirs.delete(this.dataDir)
    }
    this.dataDir = null
  }
}

/** Parse the address out of a slog "listening" line (text or JSON handler). */
export function listeningAddr (line) {
  if (!/listening/.test(line)) return null
  const m = line.match(/"?addr"?\s*[=:]\s*"?\[?([0-9a-fA-F.:]*?)\]?:(\d+)"?/)
  return m ? `${m[1]}:${m[2]}` : null
}

function lines (stream, fn) {
  let buf = ''
  stream.setEncoding('utf8')
  stream.on('data', chunk => {
    buf += chunk
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      fn(buf.slice(0, i))
      buf = buf.slice(i + 1)
    }
  })
  stream.on('end', () => { if (buf) fn(buf) })
}

/** Start a server and register its disposal with the test context `t` (node:test). */
export async function startServer (t, opts) {
  const s = new Server(opts)
  t.after(() => s.dispose())
  await s.start()
  return s
}
