'use strict'
// Every case of the shared vectors in tests/vectors, run through the binding
// with the expectations the Rust tests (port-convention/tests/*.rs) assert.
// Each file is one test; all of its failing cases are reported together.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')
const { isDeepStrictEqual } = require('node:util')

const pc = require('..')
const { attempt, show, tempDir, vectorCases } = require('./helpers.js')

/**
 * Runs `check` on every case of `file`, each returning a problem (a string)
 * or nothing; fails with every problem at once.
 */
function runAll(file, { minimum = 1, requireSource = true, check }) {
  const cases = vectorCases(file)
  assert.ok(cases.length >= minimum, `${file}: ${cases.length} cases, at least ${minimum} expected`)
  const names = new Set()
  const failures = []
  cases.forEach((testCase, index) => {
    const name = typeof testCase.name === 'string' ? testCase.name : `#${index}`
    if (requireSource) {
      if (names.has(name)) failures.push(`${name}: duplicate case name`)
      names.add(name)
      if (typeof testCase.source !== 'string' || testCase.source === '') failures.push(`${name}: missing "source"`)
    }
    let problem
    try {
      problem = check(testCase)
    } catch (error) {
      problem = `the test itself failed: ${error.stack}`
    }
    if (problem) failures.push(`${name}: ${problem}`)
  })
  assert.ok(
    failures.length === 0,
    `${file}: ${failures.length} of ${cases.length} cases failed:\n  - ${failures.join('\n  - ')}`,
  )
}

/** Whether every field of `expected` equals the same field of `actual`. */
function matches(actual, expected) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    return Object.entries(expected).every(([key, value]) => isDeepStrictEqual(actual?.[key] ?? null, value))
  }
  return isDeepStrictEqual(actual, expected)
}

/** Checks a thrown error against `{ code, message_contains?, line? }`. */
function checkError(expected, error, { withLine }) {
  if (!(error instanceof pc.PortConventionError)) {
    return `expected a PortConventionError, got ${error?.stack ?? error}`
  }
  if (error.code !== expected.code) {
    return `expected error code ${expected.code}, got ${error.code} (${error.message})`
  }
  if (typeof expected.message_contains === 'string' && !error.message.includes(expected.message_contains)) {
    return `error ${show(error.message)} does not contain ${show(expected.message_contains)}`
  }
  if (withLine) {
    const wanted = expected.line ?? null
    const got = error.location?.line ?? null
    if (wanted !== got) return `expected error line ${wanted}, got ${got} (${error.message})`
  }
  return undefined
}

/** Whether `[start, end)` is a span of whole characters of `text`'s UTF-8 bytes. */
function isByteSpan(text, span) {
  const bytes = Buffer.from(text, 'utf8')
  const boundary = (i) => i === bytes.length || (i < bytes.length && (bytes[i] & 0xc0) !== 0x80)
  return (
    Number.isInteger(span?.start) &&
    Number.isInteger(span?.end) &&
    span.start <= span.end &&
    span.end <= bytes.length &&
    boundary(span.start) &&
    boundary(span.end)
  )
}

function byteSlice(text, span) {
  return Buffer.from(text, 'utf8').subarray(span.start, span.end).toString('utf8')
}

test('port_specs.json: every case through parsePortSpec', () => {
  runAll('port_specs.json', {
    minimum: 80,
    check(testCase) {
      if ('env' in testCase) return 'env is not used by port-spec vectors'
      const { input, expect } = testCase
      const got = attempt(() => pc.parsePortSpec(input))
      if (expect.mappings !== undefined) {
        if (got.error) return `input ${show(input)}: expected mappings, got error: ${got.error.message}`
        if (!isDeepStrictEqual(got.value, expect.mappings)) {
          return `input ${show(input)}: expected ${show(expect.mappings)}\n      got      ${show(got.value)}`
        }
        return undefined
      }
      if (expect.error !== undefined) {
        if (typeof expect.error.message_contains !== 'string') return 'no message_contains'
        if (!got.error) return `input ${show(input)}: expected error ${show(expect.error)}, got ${show(got.value)}`
        const problem = checkError(expect.error, got.error, { withLine: false })
        return problem && `input ${show(input)}: ${problem}`
      }
      return 'expect has neither mappings nor error'
    },
  })
})

test('interpolation.json: every case through interpolate', () => {
  runAll('interpolation.json', {
    minimum: 40,
    check({ template, env = {}, expect }) {
      const got = attempt(() => pc.interpolate(template, env))
      if (expect.error !== undefined) {
        if (!got.error) return `expected error ${show(expect.error)}, got value ${show(got.value.value)}`
        return checkError(expect.error, got.error, { withLine: false })
      }
      if (got.error) return `unexpected error: ${got.error.code}: ${got.error.message}`
      if (got.value.value !== expect.value) return `expected value ${show(expect.value)}, got ${show(got.value.value)}`
      if (!Array.isArray(expect.uses)) return 'missing "uses"'
      const wanted = expect.uses.map((u) => [u.name, u.default_taken])
      const actual = got.value.uses.map((u) => [u.name, u.default_taken])
      if (!isDeepStrictEqual(actual, wanted)) return `expected uses ${show(wanted)}, got ${show(actual)}`
      // Spans must always slice the template.
      for (const use of got.value.uses) {
        if (!isByteSpan(template, use.span)) return `span ${show(use.span)} of ${use.name} is not in the template`
      }
      return undefined
    },
  })
})

test('dotenv.json: every case through parseDotenv', () => {
  runAll('dotenv.json', {
    minimum: 30,
    check({ text, env = {}, expect }) {
      const got = attempt(() => pc.parseDotenv(text, env))
      if (expect.error !== undefined) {
        if (!got.error) return `expected error ${show(expect.error)}, got entries ${show(got.value.entries)}`
        return checkError(expect.error, got.error, { withLine: true })
      }
      if (got.error) return `unexpected error: ${got.error.code}: ${got.error.message}`
      if (!Array.isArray(expect.entries)) return 'missing "entries"'
      const parsed = got.value
      const wantedEntries = expect.entries.map((e) => [e.key, e.value, e.line])
      const actualEntries = parsed.entries.map((e) => [e.key, e.value, e.line])
      if (!isDeepStrictEqual(actualEntries, wantedEntries)) {
        return `expected entries ${show(wantedEntries)},\n           got ${show(actualEntries)}`
      }
      const wantedDuplicates = (expect.duplicates ?? []).map((d) => [d.key, d.first_line, d.second_line])
      const actualDuplicates = parsed.duplicates.map((d) => [d.key, d.first_line, d.second_line])
      if (!isDeepStrictEqual(actualDuplicates, wantedDuplicates)) {
        return `expected duplicates ${show(wantedDuplicates)}, got ${show(actualDuplicates)}`
      }
      // Raw spans must slice the text, and an unquoted raw value is never
      // padded with blanks.
      for (const entry of parsed.entries) {
        if (!isByteSpan(text, entry.raw_value)) {
          return `raw span ${show(entry.raw_value)} of ${entry.key} is not in the text`
        }
        const raw = byteSlice(text, entry.raw_value)
        if (entry.quote === 'none' && raw.trim() !== raw) {
          return `raw value ${show(raw)} of ${entry.key} has surrounding blanks`
        }
      }
      // `values` agrees with the last entry of each key.
      const last = Object.fromEntries(parsed.entries.map((e) => [e.key, e.value]))
      if (!isDeepStrictEqual({ ...parsed.values }, last)) {
        return `values ${show(parsed.values)} disagree with the last entries ${show(last)}`
      }
      return undefined
    },
  })
})

test('conventions.json: every case through validateConvention', () => {
  runAll('conventions.json', {
    requireSource: false,
    check({ convention, expect }) {
      const got = attempt(() => pc.validateConvention(convention))
      if (got.error) {
        if (!(got.error instanceof pc.PortConventionError)) return `unexpected exception ${got.error.stack}`
        const actual = { code: got.error.code, line: got.error.location?.line ?? null }
        if (!matches(actual, expect.error)) return `got error ${show(actual)} (${got.error.message})`
        return undefined
      }
      if (!Array.isArray(expect.findings)) return `expected an error, got findings ${show(got.value)}`
      const findings = got.value
      if (findings.length !== expect.findings.length || !findings.every((f, i) => matches(f, expect.findings[i]))) {
        return `got ${JSON.stringify(findings, null, 2)}`
      }
      return undefined
    },
  })
})

test('load_ports.json: every case through loadPorts', () => {
  const dir = tempDir()
  runAll('load_ports.json', {
    requireSource: false,
    check({ name, convention, env = {}, expect }) {
      const file = path.join(dir, `${encodeURIComponent(name)}.yaml`)
      fs.writeFileSync(file, convention)
      const got = attempt(() => pc.loadPorts({ convention: file, env }))
      if (got.error) {
        const error = got.error
        if (!(error instanceof pc.PortConventionError)) return `unexpected exception ${error.stack}`
        const wanted = expect.error?.findings ?? []
        if (
          error.code !== expect.error?.code ||
          error.findings.length !== wanted.length ||
          !error.findings.every((f, i) => matches(f, wanted[i]))
        ) {
          return `got ${error.code} ${JSON.stringify(error.findings, null, 2)}`
        }
        return undefined
      }
      const { ports, services } = got.value
      if (!isDeepStrictEqual(ports, expect.ports) || !isDeepStrictEqual(services, expect.services)) {
        return `got ${show(got.value)}`
      }
      return undefined
    },
  })
})

/** The fields the check vectors compare; a file named by its full path (the
 * convention, as found) relative to the case's directory. */
function comparableFinding(finding, root) {
  const out = {}
  for (const key of ['rule', 'severity', 'file', 'line', 'column', 'service', 'port']) {
    if (finding[key] !== undefined) out[key] = finding[key]
  }
  if (typeof out.file === 'string' && path.isAbsolute(out.file)) {
    const rel = path.relative(root, out.file)
    if (!rel.startsWith('..')) out.file = rel.split(path.sep).join('/')
  }
  return out
}

test('check.json: every case through check', async () => {
  const cases = vectorCases('check.json')
  assert.ok(cases.length >= 10, `${cases.length} cases`)
  const failures = []
  for (const testCase of cases) {
    const root = tempDir()
    for (let dir = path.dirname(root); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      assert.ok(!fs.existsSync(path.join(dir, 'ports.yaml')), `a ports.yaml in ${dir} would leak into the vectors`)
    }
    for (const [name, text] of Object.entries(testCase.files)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
      fs.writeFileSync(path.join(root, name), text)
    }
    let report
    try {
      report = await pc.check(root, { env: testCase.env })
    } catch (error) {
      failures.push(`${testCase.name}: check failed: ${error.stack}`)
      continue
    }
    const got = report.findings.map((f) => comparableFinding(f, root))
    if (!isDeepStrictEqual(got, testCase.expect.findings)) {
      failures.push(`${testCase.name}: findings\n    got      ${JSON.stringify(got)}\n    expected ${JSON.stringify(testCase.expect.findings)}`)
    }
    for (const count of ['errors', 'warnings']) {
      if (report.summary[count] !== testCase.expect[count]) {
        failures.push(`${testCase.name}: ${count} ${report.summary[count]} (expected ${testCase.expect[count]})`)
      }
    }
  }
  assert.ok(failures.length === 0, `check.json: ${failures.length} of ${cases.length} cases failed:\n  - ${failures.join('\n  - ')}`)
})
