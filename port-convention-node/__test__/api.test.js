'use strict'
// The API: arguments, defaults, and the shapes of the returned data (the
// core's JSON field names).

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { describe, test } = require('node:test')

const pc = require('..')
const { TRADING_SYSTEM, tempDir, writeTree } = require('./helpers.js')

const SMALL = `version: 1.0.0
name: small
ranges:
  db: { ports: 7000-7099 }
services:
  pg:
    range: db
    ports:
      sql: { port: 7000, env: PG_PORT }
  cache:
    range: db
    ports:
      redis: { port: 7030, env: CACHE_PORT }
      admin: { port: 7031 }
`

describe('loadPorts', () => {
  test('returns the convention, ports by variable and ports by service', () => {
    const loaded = pc.loadPorts({ convention: TRADING_SYSTEM, env: {} })
    assert.deepEqual(loaded.convention, { name: 'trading-system', version: '1.0.0' })
    assert.equal(loaded.ports.TIMESCALEDB_PORT, 7000)
    assert.equal(loaded.ports.REDIS_PORT, 7030)
    assert.equal(Object.keys(loaded.ports).length, 14)
    assert.deepEqual(loaded.services.timescaledb, { postgres: 7000 })
    assert.deepEqual(loaded.services.questdb, { http: 7010, ilp: 7011, influx: 7012 })
    assert.deepEqual(Object.keys(loaded), ['convention', 'ports', 'services'])
  })

  test('a convention without a name gives name null', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': 'version: 1.0.0\n' })
    const loaded = pc.loadPorts({ convention: path.join(dir, 'ports.yaml'), env: {} })
    assert.deepEqual(loaded, { convention: { name: null, version: '1.0.0' }, ports: {}, services: {} })
  })

  test('env overrides; undefined and empty values count as unset', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': SMALL })
    const loaded = pc.loadPorts({
      convention: path.join(dir, 'ports.yaml'),
      env: { PG_PORT: '7005', CACHE_PORT: undefined, OTHER: 'x' },
    })
    assert.deepEqual(loaded.ports, { CACHE_PORT: 7030, PG_PORT: 7005 })
    assert.deepEqual(loaded.services, { cache: { admin: 7031, redis: 7030 }, pg: { sql: 7005 } })
    const empty = pc.loadPorts({ convention: path.join(dir, 'ports.yaml'), env: { PG_PORT: '' } })
    assert.equal(empty.ports.PG_PORT, 7000)
  })

  test('env defaults to process.env', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': SMALL })
    process.env.PG_PORT = '7009'
    try {
      assert.equal(pc.loadPorts({ convention: path.join(dir, 'ports.yaml') }).ports.PG_PORT, 7009)
    } finally {
      delete process.env.PG_PORT
    }
    assert.equal(pc.loadPorts({ convention: path.join(dir, 'ports.yaml') }).ports.PG_PORT, 7000)
  })

  test('envFiles are read in order, later wins, env wins over all', () => {
    const dir = writeTree(tempDir(), {
      'ports.yaml': SMALL,
      'a.env': 'PG_PORT=7001\nCACHE_PORT=7040\n',
      'b.env': 'PG_PORT=7002\n',
    })
    const convention = path.join(dir, 'ports.yaml')
    const envFiles = [path.join(dir, 'a.env'), path.join(dir, 'b.env')]
    assert.deepEqual(pc.loadPorts({ convention, envFiles, env: {} }).ports, { CACHE_PORT: 7040, PG_PORT: 7002 })
    assert.deepEqual(pc.loadPorts({ convention, envFiles, env: { PG_PORT: '7003' } }).ports, {
      CACHE_PORT: 7040,
      PG_PORT: 7003,
    })
    assert.equal(pc.loadPorts({ convention, envFiles: envFiles.reverse(), env: {} }).ports.PG_PORT, 7001)
  })

  test('a bad value in an env file is reported like one in env', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': SMALL, '.env': 'PG_PORT=7000abc\n' })
    assert.throws(
      () => pc.loadPorts({ convention: path.join(dir, 'ports.yaml'), envFiles: [path.join(dir, '.env')], env: {} }),
      (err) => err.code === 'validation-failed' && err.findings[0].variable === 'PG_PORT',
    )
  })

  test('the convention defaults to ports.yaml found upward from the working directory', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': SMALL, 'deep/er/.keep': '' })
    const before = process.cwd()
    process.chdir(path.join(dir, 'deep', 'er'))
    try {
      assert.equal(pc.loadPorts({ env: {} }).convention.name, 'small')
      assert.equal(pc.loadPorts().convention.name, 'small')
    } finally {
      process.chdir(before)
    }
    assert.equal(pc.loadPorts({ cwd: path.join(dir, 'deep'), env: {} }).convention.name, 'small')
  })
})

describe('parsePortSpec', () => {
  test('short syntax gives mappings with the core field names', () => {
    assert.deepEqual(pc.parsePortSpec('127.0.0.1:7000:5432/UDP'), [
      { host_ip: '127.0.0.1', published: '7000', target: 5432, protocol: 'udp', mode: 'ingress' },
    ])
    assert.deepEqual(
      pc.parsePortSpec('98-100:98-100').map((m) => m.target),
      [100, 98, 99],
    )
  })

  test('integers and long-syntax objects', () => {
    assert.deepEqual(pc.parsePortSpec(5432), [
      { host_ip: '', published: '', target: 5432, protocol: 'tcp', mode: 'ingress' },
    ])
    assert.deepEqual(pc.parsePortSpec({ target: 80, published: '8080', host_ip: '::1', name: 'web', app_protocol: 'http' }), [
      { host_ip: '::1', published: '8080', target: 80, protocol: 'tcp', mode: 'ingress', name: 'web', app_protocol: 'http' },
    ])
  })

  test('strings are interpolated first, with env or with no variable set', () => {
    const spec = '127.0.0.1:${PG_PORT:-7000}:5432'
    assert.equal(pc.parsePortSpec(spec)[0].published, '7000')
    assert.equal(pc.parsePortSpec(spec, {})[0].published, '7000')
    assert.equal(pc.parsePortSpec(spec, { PG_PORT: '7004' })[0].published, '7004')
    assert.equal(pc.parsePortSpec({ target: '${T}', published: '${P:-9000}' }, { T: '80' })[0].published, '9000')
    assert.equal(pc.parsePortSpec({ target: '${T}', published: 9001 }, { T: '80' })[0].target, 80)
    // process.env is not read.
    process.env.PG_PORT = '7004'
    try {
      assert.equal(pc.parsePortSpec(spec)[0].published, '7000')
    } finally {
      delete process.env.PG_PORT
    }
    assert.throws(() => pc.parsePortSpec('${PG_PORT:?set it}:5432'), { code: 'required-variable' })
    assert.throws(() => pc.parsePortSpec({ target: '${' }), { code: 'invalid-template' })
  })
})

describe('interpolate', () => {
  test('returns the value and every use with the core field names', () => {
    const out = pc.interpolate('${PG_PORT:-5432}:5432 and ${REDIS_PORT:-6379}', { PG_PORT: '7001' })
    assert.equal(out.value, '7001:5432 and 6379')
    assert.deepEqual(out.uses[0], {
      name: 'PG_PORT',
      operator: 'default-if-unset-or-empty',
      span: { start: 0, end: 16 },
      default: { text: '5432', span: { start: 11, end: 15 } },
      value: '7001',
      default_taken: false,
    })
    assert.equal(out.uses[1].default_taken, true)
    assert.equal(out.uses[1].value, null)
  })

  test('undefined is unset, empty is set', () => {
    assert.equal(pc.interpolate('[${A-unset}]', { A: undefined }).value, '[unset]')
    assert.equal(pc.interpolate('[${A-unset}]', { A: '' }).value, '[]')
    assert.equal(pc.interpolate('$$HOME', {}).value, '$HOME')
  })
})

describe('parseDotenv', () => {
  test('returns values, entries and duplicates', () => {
    const parsed = pc.parseDotenv('# ports\nexport PG_PORT=5433 # db\nPG_PORT=5434\nURL="db:${PG_PORT}"\n')
    assert.deepEqual(parsed.values, { PG_PORT: '5434', URL: 'db:5434' })
    assert.deepEqual(
      parsed.entries.map(({ key, value, line, column }) => ({ key, value, line, column })),
      [
        { key: 'PG_PORT', value: '5433', line: 2, column: 16 },
        { key: 'PG_PORT', value: '5434', line: 3, column: 9 },
        { key: 'URL', value: 'db:5434', line: 4, column: 6 },
      ],
    )
    assert.deepEqual(parsed.entries[0].raw_value, { start: 23, end: 27 })
    assert.equal(parsed.entries[2].quote, 'double')
    assert.deepEqual(parsed.duplicates, [{ key: 'PG_PORT', first_line: 2, second_line: 3 }])
  })

  test('the env answers keys without = and wins during interpolation', () => {
    assert.deepEqual(pc.parseDotenv('A=1\nB=$A\nC\n', { A: '9', C: 'c' }).values, { A: '1', B: '9', C: 'c' })
    assert.deepEqual(pc.parseDotenv('A=1\nB=$A\nC\n').values, { A: '1', B: '1' })
  })
})

describe('validateConvention', () => {
  test('a clean convention file has no findings', () => {
    const findings = pc.validateConvention(TRADING_SYSTEM)
    assert.deepEqual(
      findings.filter((f) => f.severity === 'error'),
      [],
    )
  })

  test('YAML text gives findings with the core field names', () => {
    const findings = pc.validateConvention(
      'version: 1.0.0\nranges:\n  db: { ports: 7000-7099 }\nservices:\n  a: { range: db, ports: { x: { port: 7000 } } }\n  b: { range: db, ports: { x: { port: 7000 } } }\n',
    )
    assert.equal(findings.length, 1)
    assert.deepEqual(Object.keys(findings[0]).slice(0, 3), ['rule', 'severity', 'message'])
    assert.equal(findings[0].rule, 'duplicate-assignment')
    assert.equal(findings[0].file, '<text>')
    assert.equal(findings[0].service, 'b')
    assert.equal(findings[0].port, 7000)
  })
})

describe('allocate', () => {
  test('the lowest free ports of a range', () => {
    assert.deepEqual(pc.allocate('primary-databases', { convention: TRADING_SYSTEM }), [7004])
    assert.deepEqual(pc.allocate('primary-databases', { convention: TRADING_SYSTEM, count: 3 }), [7004, 7005, 7006])
    assert.deepEqual(pc.allocate('database-uis', { convention: TRADING_SYSTEM, count: 1 }), [7103])
  })

  test('the convention defaults to ports.yaml found upward', () => {
    const dir = writeTree(tempDir(), { 'ports.yaml': SMALL, 'sub/.keep': '' })
    const before = process.cwd()
    process.chdir(path.join(dir, 'sub'))
    try {
      assert.deepEqual(pc.allocate('db', { count: 2 }), [7001, 7002])
      assert.deepEqual(pc.allocate('db'), [7001])
    } finally {
      process.chdir(before)
    }
  })
})

describe('check', () => {
  test('returns the JSON report of the CLI', async () => {
    const dir = writeTree(tempDir(), {
      'ports.yaml': SMALL,
      'docker-compose.yml': 'services:\n  pg:\n    ports:\n      - "127.0.0.1:${PG_PORT:-7000}:5432"\n  other:\n    ports:\n      - "7000:80"\n',
      '.env': 'PG_PORT=7000\n',
    })
    const report = await pc.check(dir, { env: {} })
    assert.deepEqual(Object.keys(report), ['version', 'findings', 'summary', 'projects'])
    assert.equal(report.version, 2)
    assert.deepEqual(Object.keys(report.summary), ['files', 'services', 'mappings', 'projects', 'errors', 'warnings'])
    assert.deepEqual(report.projects.map((p) => [p.id, p.kind]), [['.', 'default']])
    assert.equal(report.summary.files, 3)
    assert.equal(report.summary.services, 2)
    assert.equal(report.summary.mappings, 2)
    assert.ok(report.summary.errors >= 1, JSON.stringify(report, null, 2))
    const clash = report.findings.find((f) => f.rule === 'duplicate-host-port')
    assert.ok(clash, JSON.stringify(report.findings, null, 2))
    assert.equal(clash.file, 'docker-compose.yml')
    assert.equal(typeof clash.line, 'number')
  })

  test('a clean tree has no findings; options are optional', async () => {
    const dir = writeTree(tempDir(), {
      'ports.yaml': SMALL,
      'compose.yaml': 'services:\n  pg:\n    ports:\n      - "${PG_PORT:-7000}:5432"\n',
    })
    const report = await pc.check(dir, { convention: path.join(dir, 'ports.yaml'), envFiles: [] })
    assert.deepEqual(
      report.findings.filter((f) => f.severity === 'error'),
      [],
    )
    assert.equal((await pc.check(dir)).version, 2)
  })

  test('runs off the main thread: returns a promise, the event loop keeps turning', async () => {
    const dir = writeTree(tempDir(), {
      'ports.yaml': SMALL,
      'compose.yaml': 'services:\n  pg:\n    ports:\n      - "${PG_PORT:-7000}:5432"\n',
    })
    const pending = pc.check(dir, { env: {} })
    assert.ok(pending instanceof Promise)
    let ticked = false
    setImmediate(() => {
      ticked = true
    })
    const report = await pending
    assert.equal(report.version, 2)
    // The callback ran while (or before) the check finished: nothing blocked.
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(ticked)
  })

  test('envFiles replace the project .env for interpolation', async () => {
    const dir = writeTree(tempDir(), {
      'ports.yaml': SMALL,
      'compose.yaml': 'services:\n  pg:\n    ports:\n      - "${PG_PORT:-7000}:5432"\n',
      'prod.env.example': 'PG_PORT=7000\n',
    })
    const other = writeTree(tempDir(), { 'override.env': 'PG_PORT=7050\n' })
    const report = await pc.check(dir, { env: {}, envFiles: [path.join(other, 'override.env')] })
    assert.ok(
      report.findings.some((f) => f.rule === 'drift' && f.port === 7050),
      JSON.stringify(report.findings, null, 2),
    )
  })
})

test('rules lists every rule with its id, severity, subject and summary', () => {
  const rules = pc.rules()
  assert.ok(Array.isArray(rules) && rules.length >= 30)
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length)
  for (const rule of rules) {
    assert.deepEqual(Object.keys(rule).sort(), ['id', 'severity', 'subject', 'summary'])
    assert.ok(['error', 'warning'].includes(rule.severity), rule.id)
    assert.ok(['convention', 'compose', 'env-file', 'environment', 'live', 'source'].includes(rule.subject), rule.id)
    assert.ok(rule.summary.endsWith('.'), rule.id)
  }
  assert.deepEqual(
    rules.find((r) => r.id === 'env-port-out-of-range'),
    {
      id: 'env-port-out-of-range',
      severity: 'error',
      subject: 'environment',
      summary: "An environment value moves a port outside its service's range.",
    },
  )
})

test('the package exports exactly the documented API', () => {
  assert.deepEqual(Object.keys(pc).sort(), [
    'PortConventionError',
    'allocate',
    'check',
    'interpolate',
    'loadPorts',
    'parseDotenv',
    'parsePortSpec',
    'rules',
    'validateConvention',
  ])
  for (const name of Object.keys(pc)) {
    assert.equal(typeof pc[name], 'function', name)
  }
  assert.ok(fs.existsSync(path.join(__dirname, '..', 'binding.d.ts')))
})
