'use strict'
// Shared by the tests: paths, temporary directories, and how a failure is
// described.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const PACKAGE_DIR = path.resolve(__dirname, '..')
const REPO_ROOT = path.resolve(PACKAGE_DIR, '..')
const VECTORS_DIR = path.join(REPO_ROOT, 'tests', 'vectors')
const TRADING_SYSTEM = path.join(REPO_ROOT, 'examples', 'trading-system', 'ports.yaml')

/** A fresh directory removed when the test process exits. */
function tempDir(prefix = 'port-convention-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Writes `files` ({ relative path: text }) under `dir`; returns `dir`. */
function writeTree(dir, files) {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, text)
  }
  return dir
}

/** The cases of a vector file (tests/vectors/NAME). */
function vectorCases(name) {
  const file = path.join(VECTORS_DIR, name)
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (!Array.isArray(doc.cases)) {
    throw new Error(`${file}: no "cases" array`)
  }
  return doc.cases
}

/** Calls `fn`, returning `{ value }` or `{ error }`. */
function attempt(fn) {
  try {
    return { value: fn() }
  } catch (error) {
    return { error }
  }
}

/** `JSON.stringify` for messages. */
function show(value) {
  return JSON.stringify(value)
}

module.exports = { PACKAGE_DIR, REPO_ROOT, VECTORS_DIR, TRADING_SYSTEM, tempDir, writeTree, vectorCases, attempt, show }
