// The ES module entry point: the package imported by name (a package may
// import itself through its "exports"), with the same functions and the same
// error class as the CommonJS entry point.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import portConvention, { PortConventionError, loadPorts, parsePortSpec } from 'port-convention'

const require = createRequire(import.meta.url)

test('ESM and CommonJS entry points share functions and the error class', () => {
  const cjs = require('port-convention')
  assert.equal(PortConventionError, cjs.PortConventionError)
  assert.equal(loadPorts, cjs.loadPorts)
  assert.equal(portConvention, cjs)
  assert.deepEqual(Object.keys(portConvention).sort(), Object.keys(cjs).sort())
})

test('errors thrown through the ESM entry point are PortConventionErrors', () => {
  assert.throws(
    () => parsePortSpec('localhost:80:80'),
    (err) => err instanceof PortConventionError && err instanceof Error && err.code === 'invalid-port-spec',
  )
})

test('loadPorts works from ESM', async () => {
  const { TRADING_SYSTEM } = require('./helpers.js')
  assert.equal(loadPorts({ convention: TRADING_SYSTEM, env: {} }).ports.TIMESCALEDB_PORT, 7000)
})
