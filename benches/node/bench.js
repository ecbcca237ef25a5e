#!/usr/bin/env node
'use strict'
// loadPorts on a generated 100-service convention, against envalid validating
// the same 100 port variables with port() validators, in one run.
//
//   node benches/node/bench.js [--runs N] [--calls N]
//
// Both read the same 100 *_PORT variables from process.env and check that
// each is a port. loadPorts does more per call: it reads and parses
// ports.yaml, checks the convention's own rules (ranges, duplicates,
// reserved ranges) and checks each value against its service's range.
//
// Two measurements, each against the other library:
//   cold: a fresh `node` process per run, timing require() of the library
//         plus the first call (the addon's load included), as a backend's
//         config.js pays it once at start-up; also the whole process's wall
//         time, next to an empty `node -e ''` for Node's own start-up.
//   warm: the time per call after a warm-up (3 processes of --calls calls).
// Medians over the runs are printed, with the ratio envalid / port-convention.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const { createRequire } = require('node:module')
const os = require('node:os')
const path = require('node:path')

const SERVICES = 100
const FIRST_PORT = 10000
const PACKAGE_DIR = path.resolve(__dirname, '..', '..', 'port-convention-node')
// envalid is a devDependency of the package: resolve it from there.
const packageRequire = createRequire(path.join(PACKAGE_DIR, 'package.json'))

const variable = (i) => `SVC${String(i).padStart(3, '0')}_PORT`

function conventionText() {
  const lines = ['version: 1.0.0', 'name: bench', 'ranges:', '  apps:', `    ports: ${FIRST_PORT}-${FIRST_PORT + 999}`, 'services:']
  for (let i = 0; i < SERVICES; i++) {
    lines.push(
      `  svc${String(i).padStart(3, '0')}:`,
      '    range: apps',
      '    ports:',
      `      http: { port: ${FIRST_PORT + i}, env: ${variable(i)}, container: 8080 }`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** Every variable set, to its assigned port + 500 (in range: all 100 accepted by both). */
function benchEnv() {
  const env = {}
  for (let i = 0; i < SERVICES; i++) env[variable(i)] = String(FIRST_PORT + 500 + i)
  return env
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6

// ---------------------------------------------------------------- child side

/** A call of one library: loadPorts, or envalid's cleanEnv with 100 port() validators. */
function load(which, convention) {
  if (which === 'port-convention') {
    const { loadPorts } = require(PACKAGE_DIR)
    return () => loadPorts({ convention }).ports
  }
  const { cleanEnv, port } = packageRequire('envalid')
  const specs = {}
  for (let i = 0; i < SERVICES; i++) specs[variable(i)] = port({ default: FIRST_PORT + i })
  return () => cleanEnv(process.env, specs)
}

/**
 * cold: require() the library and call it once, then exit.
 * warm: the same, then the time per call of `calls` calls after a warm-up.
 */
function child(mode, which, convention, calls) {
  const started = nowMs()
  const call = load(which, convention)
  const loaded = nowMs()
  const first = call()
  const cold = nowMs()
  const result = { requireMs: loaded - started, firstCallMs: cold - loaded, coldMs: cold - started, ports: {} }
  for (let i = 0; i < SERVICES; i++) result.ports[variable(i)] = first[variable(i)]
  if (mode === 'warm') {
    for (let i = 0; i < Math.min(calls, 50); i++) call()
    const warmStart = nowMs()
    for (let i = 0; i < calls; i++) call()
    result.warmUs = ((nowMs() - warmStart) * 1000) / calls
  }
  process.stdout.write(JSON.stringify(result))
}

// --------------------------------------------------------------- parent side

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function spawnTimed(args, env) {
  const started = nowMs()
  const run = spawnSync(process.execPath, args, { env, encoding: 'utf8' })
  const wallMs = nowMs() - started
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${run.stderr}`)
  return { wallMs, stdout: run.stdout }
}

function parent(runs, calls) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'port-convention-bench-'))
  try {
    const convention = path.join(dir, 'ports.yaml')
    fs.writeFileSync(convention, conventionText())
    const env = { PATH: process.env.PATH, ...benchEnv() }

    const addon = fs.readdirSync(PACKAGE_DIR).find((f) => f.endsWith('.node'))
    if (!addon) throw new Error(`no addon in ${PACKAGE_DIR}: run \`npm run build:release\` there first`)
    const sizeMb = fs.statSync(path.join(PACKAGE_DIR, addon)).size / 1e6
    console.log(`addon ${addon} (${sizeMb.toFixed(1)} MB)${sizeMb > 20 ? '  WARNING: looks like a debug build; run `npm run build:release`' : ''}`)
    const envalidVersion = packageRequire('envalid/package.json').version
    console.log(`node ${process.version}, envalid ${envalidVersion}, ${SERVICES} services / port variables, ${runs} fresh processes each (cold), 3 x ${calls} calls (warm)`)

    const results = { 'port-convention': [], envalid: [], empty: [] }
    const warm = { 'port-convention': [], envalid: [] }
    let agreed = null
    const runChild = (mode, which) => {
      const { wallMs, stdout } = spawnTimed([__filename, '--child', mode, which, convention, String(calls)], env)
      const result = JSON.parse(stdout)
      if (which === 'port-convention') agreed = JSON.stringify(result.ports)
      else if (JSON.stringify(result.ports) !== agreed) throw new Error('the two libraries disagree')
      return { ...result, wallMs }
    }
    for (let r = 0; r < runs; r++) {
      // Interleaved, so that drifting machine load hits all alike.
      results.empty.push({ wallMs: spawnTimed(['-e', ''], env).wallMs })
      for (const which of ['port-convention', 'envalid']) results[which].push(runChild('cold', which))
    }
    for (let r = 0; r < 3; r++) {
      for (const which of ['port-convention', 'envalid']) warm[which].push(runChild('warm', which))
    }

    const stat = (which, key, from = results) => median(from[which].map((r) => r[key]))
    const row = (label, ours, theirs, unit) => {
      const digits = unit === 'us' ? 1 : 2
      console.log(
        `${label.padEnd(34)} ${ours.toFixed(digits).padStart(9)} ${unit} ${theirs.toFixed(digits).padStart(9)} ${unit}   ${(theirs / ours).toFixed(2)}x`,
      )
    }
    console.log(`\n${'median'.padEnd(34)} ${'port-convention'.padStart(12)} ${'envalid'.padStart(12)}   envalid / port-convention`)
    row('cold: require()', stat('port-convention', 'requireMs'), stat('envalid', 'requireMs'), 'ms')
    row('cold: first call', stat('port-convention', 'firstCallMs'), stat('envalid', 'firstCallMs'), 'ms')
    row('cold: require() + first call', stat('port-convention', 'coldMs'), stat('envalid', 'coldMs'), 'ms')
    row('cold: process wall time', stat('port-convention', 'wallMs'), stat('envalid', 'wallMs'), 'ms')
    row('warm: per call', stat('port-convention', 'warmUs', warm), stat('envalid', 'warmUs', warm), 'us')
    console.log(`${'(empty `node -e ""` wall time'.padEnd(34)} ${stat('empty', 'wallMs').toFixed(2).padStart(9)} ms)`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function main() {
  const args = process.argv.slice(2)
  if (args[0] === '--child') {
    child(args[1], args[2], args[3], Number(args[4]))
    return
  }
  const option = (name, fallback) => {
    const index = args.indexOf(name)
    return index === -1 ? fallback : Number(args[index + 1])
  }
  parent(option('--runs', 15), option('--calls', 200))
}

main()
