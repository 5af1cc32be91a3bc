// Builds the browser app into dist/ (committed, embedded by embed.go).
// The output must be byte-for-byte reproducible: `make frontend-check` rebuilds and
// fails if dist/ differs from what is committed. So: no timestamps, no source maps
// with absolute paths, content-hashed chunk names only.
import * as esbuild from 'esbuild'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(fileURLToPath(import.meta.url))
// `node build.mjs [outdir]`: the check target builds into a temporary folder and compares.
const dist = resolve(root, process.argv[2] || 'dist')

rmSync(dist, { recursive: true, force: true })
mkdirSync(join(dist, 'assets'), { recursive: true })

await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  // Each page loads only what it needs: the list page does not download TipTap.
  splitting: true,
  outdir: join(dist, 'assets'),
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'external',
  charset: 'utf8',
  logLevel: 'warning',
})

for (const file of ['index.html', 'favicon.svg']) {
  copyFileSync(join(root, 'src', file), join(dist, file === 'index.html' ? file : join('assets', file)))
}
