'use strict'
// Every failure throws a PortConventionError: a real subclass of Error with
// the core's stable `code`, its message, `findings` (only for
// validation-failed) and `location`.

const assert = require('node:assert/strict')
const path = require('node:path')
const { test } = require('node:test')

const pc = require('..')
const { PortConventionError } = pc
const { TRADING_SYSTEM, tempDir, writeTree } = require('./helpers.js')

/** The error `fn` throws, checked to be a well-formed PortConventionError. */
function thrown(fn) {
  let error
  try {
    fn()
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, 'expected an exception')
  assert.ok(error instanceof PortConventionError, `not a PortConventionError: ${error?.stack}`)
  assert.ok(error instanceof Error)
  assert.equal(error.name, 'PortConventionError')
  assert.equal(typeof error.code, 'string')
  assert.equal(typeof error.message, 'string')
  assert.ok(Array.isArray(error.findings))
  if (error.code !== 'validation-failed') assert.deepEqual(error.findings, [])
  assert.ok(error.location === null || typeof error.location.line === 'number')
  assert.match(error.stack, /^PortConventionError: /)
  return error
}

test('PortConventionError is a class of its own, usable by callers', () => {
  const error = new PortConventionError('boom', { code: 'io' })
  assert.ok(error instanceof Error && error instanceof PortConventionError)
  assert.equal(error.name, 'PortConventionError')
  assert.equal(error.code, 'io')
  assert.deepEqual(error.findings, [])
  assert.equal(error.location, null)
  assert.equal(Object.prototype.toString.call(error), '[object Error]')
})

test('validation-failed lists every problem in findings and in the message', () => {
  const error = thrown(() =>
    pc.loadPorts({ convention: TRADING_SYSTEM, env: { TIMESCALEDB_PORT: '07000', REDIS_PORT: '80', QDRANT_HTTP_PORT: '7000abc' } }),
  )
  assert.equal(error.code, 'validation-failed')
  assert.equal(error.location, null)
  assert.deepEqual(error.findings.map((f) => [f.variable, f.rule, f.value]).sort(), [
    ['QDRANT_HTTP_PORT', 'invalid-env-port', '7000abc'],
    ['REDIS_PORT', 'env-port-out-of-range', '80'],
    ['TIMESCALEDB_PORT', 'invalid-env-port', '07000'],
  ])
  assert.match(error.message, /^3 problem\(s\) with port values:/)
  for (const finding of error.findings) {
    assert.equal(finding.severity, 'error')
    assert.ok(error.message.includes(finding.message))
  }
  const redis = error.findings.find((f) => f.variable === 'REDIS_PORT')
  assert.deepEqual(redis, {
    rule: 'env-port-out-of-range',
    severity: 'error',
    message: 'REDIS_PORT=80 (service rag-redis port redis) is outside range primary-databases (7000-7099)',
    service: 'rag-redis',
    port: 80,
    variable: 'REDIS_PORT',
    value: '80',
    suggestion: { port: 7030 },
  })
})

test('the stack starts at the caller, not inside the package', () => {
  const error = thrown(() => pc.parsePortSpec('localhost:80:80'))
  const firstFrame = error.stack.split('\n').find((line) => line.trimStart().startsWith('at '))
  assert.ok(firstFrame.includes(__filename), firstFrame)
})

test('each function maps core errors to their stable codes', () => {
  const dir = writeTree(tempDir(), {
    'bad.yaml': 'version: 1.0.0\nranges: [\n',
    'unknown-key.yaml': 'version: 1.0.0\nrangez: {}\n',
    'not-a-dir': 'x',
    'bad.env': 'A=1\nB="open\n',
  })
  const cases = [
    ['loadPorts, missing file', () => pc.loadPorts({ convention: path.join(dir, 'missing.yaml') }), 'io'],
    ['loadPorts, nothing found upward', () => pc.loadPorts({ cwd: path.parse(dir).root }), 'convention-not-found'],
    ['loadPorts, bad YAML', () => pc.loadPorts({ convention: path.join(dir, 'bad.yaml') }), 'yaml-syntax'],
    ['loadPorts, unknown key', () => pc.loadPorts({ convention: path.join(dir, 'unknown-key.yaml') }), 'invalid-convention'],
    [
      'loadPorts, bad env file',
      () => pc.loadPorts({ convention: TRADING_SYSTEM, envFiles: [path.join(dir, 'bad.env')] }),
      'dotenv-syntax',
    ],
    ['parsePortSpec', () => pc.parsePortSpec('80/xyz'), 'invalid-port-spec'],
    ['parsePortSpec, float', () => pc.parsePortSpec(80.5), 'invalid-port-spec'],
    ['parsePortSpec, long syntax', () => pc.parsePortSpec({ target: 80, foo: 1 }), 'invalid-port-spec'],
    ['parsePortSpec, interpolation', () => pc.parsePortSpec('${', {}), 'invalid-template'],
    ['interpolate', () => pc.interpolate('${VAR', {}), 'invalid-template'],
    ['interpolate, required', () => pc.interpolate('${VAR:?set VAR}', {}), 'required-variable'],
    ['parseDotenv', () => pc.parseDotenv('A=1\nB="open\n'), 'dotenv-syntax'],
    ['validateConvention, missing path', () => pc.validateConvention('missing/ports.yaml'), 'io'],
    ['validateConvention, bad text', () => pc.validateConvention('version: 1.0.0\nranges: [\n'), 'yaml-syntax'],
    ['allocate, unknown range', () => pc.allocate('nope', { convention: TRADING_SYSTEM }), 'unknown-range'],
    ['allocate, range full', () => pc.allocate('primary-databases', { convention: TRADING_SYSTEM, count: 1000 }), 'range-full'],
    ['allocate, count 0', () => pc.allocate('primary-databases', { convention: TRADING_SYSTEM, count: 0 }), 'invalid-argument'],
  ]
  const failures = []
  for (const [name, fn, code] of cases) {
    try {
      const error = thrown(fn)
      if (error.code !== code) failures.push(`${name}: expected ${code}, got ${error.code}: ${error.message}`)
    } catch (e) {
      failures.push(`${name}: ${e.message}`)
    }
  }
  assert.deepEqual(failures, [])
})

test('errors tied to a file carry its location', () => {
  const dotenv = thrown(() => pc.parseDotenv('A=1\nB="open\n'))
  assert.deepEqual(dotenv.location, { file: '.env', line: 2, column: 3 })
  const yaml = thrown(() => pc.validateConvention('version: 1.0.0\nrangez: {}\n'))
  assert.equal(yaml.code, 'invalid-convention')
  assert.equal(yaml.location.file, '<text>')
  assert.equal(yaml.location.line, 2)
  assert.match(yaml.message, /^<text>:2/)
})

test('arguments of the wrong type are invalid-argument errors', () => {
  const cases = [
    () => pc.loadPorts({ env: { PG_PORT: 7000 } }),
    () => pc.loadPorts({ envFiles: 'a.env' }),
    () => pc.interpolate(42, {}),
    () => pc.interpolate('x'),
    () => pc.parseDotenv(undefined),
    () => pc.validateConvention(),
    () => pc.allocate('db', { count: 'two' }),
    () => pc.parsePortSpec('80', { A: 1 }),
  ]
  for (const fn of cases) {
    const error = thrown(fn)
    assert.equal(error.code, 'invalid-argument', `${fn}: ${error.message}`)
    assert.ok(error.message.length > 0)
  }
})

test('check rejects with a PortConventionError (its work runs off the main thread)', async () => {
  const dir = writeTree(tempDir(), { 'ports.yaml': 'version: 1.0.0\n', 'not-a-dir': '' })
  const cases = [
    [path.join(dir, 'missing'), 'io'],
    [path.join(dir, 'not-a-dir'), 'not-a-directory'],
  ]
  for (const [root, code] of cases) {
    let error
    try {
      await pc.check(root, { env: {} })
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof PortConventionError, `${root}: ${error?.stack}`)
    assert.equal(error.code, code, error.message)
    assert.ok(Array.isArray(error.findings))
    assert.match(error.stack, /^PortConventionError: /)
    assert.ok(error.stack.includes('errors.test.js'), error.stack)
  }
  // A wrong argument type is rejected too, never thrown synchronously.
  const pending = pc.check(42)
  assert.ok(pending instanceof Promise)
  await assert.rejects(pending, (e) => e instanceof PortConventionError && e.code === 'invalid-argument')
})
