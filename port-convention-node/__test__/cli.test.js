'use strict'
// The package's `port-convention` bin: the Rust CLI run through the addon,
// as a child process (what `npx port-convention` runs).

const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { test } = require('node:test')

const { PACKAGE_DIR, REPO_ROOT, tempDir } = require('./helpers.js')

const BIN = path.join(PACKAGE_DIR, require('../package.json').bin['port-convention'])

function run(args, cwd) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' })
}

test('the bin prints the version of the Rust CLI', () => {
  const out = run(['--version'], tempDir())
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stdout, `port-convention ${require('../package.json').version}\n`)
})

test('the bin checks the example with the CLI exit codes', () => {
  const example = path.join(REPO_ROOT, 'examples', 'trading-system')
  const out = run(['check', example, '--format', 'json'], tempDir())
  assert.equal(out.status, 1, out.stderr)
  const report = JSON.parse(out.stdout)
  assert.ok(report.findings.some((f) => f.rule === 'drift'))
  const usage = run(['no-such-command'], tempDir())
  assert.equal(usage.status, 2)
  assert.match(usage.stderr, /unrecognized subcommand/)
})
