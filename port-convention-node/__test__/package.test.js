'use strict'
// The package's entry points are hand-written files whose names napi never
// writes by default (index.js, index.d.ts): a plain `napi build` cannot
// overwrite them (scripts/test-node.sh also runs one and compares).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

test('entry points are not napi default output names', () => {
  const named = [
    pkg.main,
    pkg.types,
    ...Object.values(pkg.exports['.']).flatMap((v) => Object.values(v)),
    ...pkg.files,
  ].map((f) => path.basename(f))
  for (const napiDefault of ['index.js', 'index.d.ts']) {
    assert.ok(!named.includes(napiDefault), `${napiDefault} is napi's default output`)
  }
  for (const file of [pkg.main, pkg.types]) {
    assert.ok(fs.existsSync(path.join(root, file)), file)
  }
  assert.equal(require('..').PortConventionError.name, 'PortConventionError')
})
