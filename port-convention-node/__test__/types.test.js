'use strict'
// The TypeScript declarations (main.d.ts, main.d.mts and the generated
// binding.d.ts) compile in strict mode and describe the API as used in
// __test__/types/usage.cts and usage.mts.

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { test } = require('node:test')

test('the declarations type-check (tsc --strict)', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const project = path.join(__dirname, 'types', 'tsconfig.json')
  const run = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`)
})
