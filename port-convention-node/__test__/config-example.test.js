'use strict'
// examples/node-config/config.js, run as a backend would run it: in a child
// process, with `require('port-convention')` resolving to this package.

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const { PACKAGE_DIR, REPO_ROOT, tempDir } = require('./helpers.js')

const CONFIG = path.join(REPO_ROOT, 'examples', 'node-config', 'config.js')

// A node_modules directory holding only `port-convention` (a link to this
// package), given to the child through NODE_PATH.
const modules = path.join(tempDir(), 'node_modules')
fs.mkdirSync(modules)
fs.symlinkSync(PACKAGE_DIR, path.join(modules, 'port-convention'), 'junction')

/** Runs config.js with exactly `vars` as its environment (plus PATH and NODE_PATH). */
function runConfig(vars) {
  return spawnSync(process.execPath, [CONFIG], {
    cwd: path.dirname(CONFIG),
    env: { PATH: process.env.PATH, NODE_PATH: modules, ...vars },
    encoding: 'utf8',
    timeout: 30_000,
  })
}

test('config.js prints the convention ports with no override', () => {
  const run = runConfig({})
  assert.equal(run.status, 0, run.stderr)
  const config = JSON.parse(run.stdout)
  assert.equal(config.convention, 'trading-system@1.0.0')
  assert.equal(config.timescaledb.port, 7000)
  assert.equal(config.timescaledb.backupPort, 7001)
  assert.equal(config.questdb.ilpPort, 7011)
  assert.equal(config.qdrant.url, 'http://127.0.0.1:7020')
  assert.equal(config.redis.url, 'redis://127.0.0.1:7030')
})

test('config.js takes a valid override from the environment', () => {
  const run = runConfig({ TIMESCALEDB_PORT: '7005', QDRANT_HTTP_PORT: '7040' })
  assert.equal(run.status, 0, run.stderr)
  const config = JSON.parse(run.stdout)
  assert.equal(config.timescaledb.port, 7005)
  assert.equal(config.qdrant.url, 'http://127.0.0.1:7040')
})

test('config.js refuses a bad environment, listing every problem', () => {
  const run = runConfig({
    TIMESCALEDB_PORT: '07000', // leading zero
    QUESTDB_HTTP_PORT: '7010abc', // not a number
    REDIS_PORT: '80', // outside primary-databases (7000-7099)
    PGADMIN_PORT: '7301', // outside database-uis, inside the reserved replication range
    QDRANT_GRPC_PORT: '7001', // taken by timescaledb-backup
  })
  assert.equal(run.status, 1, `expected exit code 1, got ${run.status}\n${run.stdout}`)
  assert.equal(run.stdout, '')
  const stderr = run.stderr
  assert.match(stderr, /PortConventionError: 6 problem\(s\) with port values/)
  assert.match(stderr, /validation-failed/)
  for (const expected of [
    /TIMESCALEDB_PORT="07000" \(service timescaledb port postgres\) has a leading zero/,
    /QUESTDB_HTTP_PORT="7010abc" \(service questdb port http\) is not a port number/,
    /REDIS_PORT=80 .* is outside range primary-databases/,
    /PGADMIN_PORT=7301 .* is inside reserved range replication/,
    /7001\/tcp would be used by .*qdrant/,
  ]) {
    assert.match(stderr, expected)
  }
  for (const rule of ['invalid-env-port', 'env-port-out-of-range', 'env-port-in-reserved-range', 'env-port-duplicate-assignment']) {
    assert.ok(stderr.includes(rule), `stderr does not name rule ${rule}:\n${stderr}`)
  }
})

test('config.js exports a frozen object', () => {
  const script = `
    const config = require(${JSON.stringify(CONFIG)})
    const frozen = Object.isFrozen(config) && Object.isFrozen(config.timescaledb)
    try { config.timescaledb.port = 1 } catch {}
    console.log(JSON.stringify({ frozen, port: config.timescaledb.port }))
  `
  const run = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, NODE_PATH: modules },
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(run.status, 0, run.stderr)
  assert.deepEqual(JSON.parse(run.stdout), { frozen: true, port: 7000 })
})
