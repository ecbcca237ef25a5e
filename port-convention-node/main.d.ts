// Types of the `port-convention` package. The functions and data shapes are
// declared in `binding.d.ts`, generated from the Rust sources by `napi build`.

import type { Finding, Location } from './binding'

export {
  allocate,
  check,
  interpolate,
  loadPorts,
  parseDotenv,
  parsePortSpec,
  rules,
  validateConvention,
} from './binding'

export type {
  AllocateOptions,
  CheckOptions,
  DotenvEntry,
  DuplicateKey,
  Finding,
  Interpolated,
  LoadedPorts,
  LoadPortsOptions,
  Location,
  Operator,
  ParsedDotenv,
  PortMapping,
  PortSpecObject,
  Related,
  Report,
  RuleInfo,
  Span,
  Suggestion,
  Summary,
  VariableUse,
} from './binding'

/**
 * What every function of this package throws.
 *
 * ```js
 * try {
 *   loadPorts({ convention: 'ports.yaml' })
 * } catch (err) {
 *   if (err instanceof PortConventionError && err.code === 'validation-failed') {
 *     for (const f of err.findings) console.error(`${f.variable}: ${f.message}`)
 *   }
 * }
 * ```
 */
export declare class PortConventionError extends Error {
  constructor(
    message: string,
    details: { code: string; findings?: Finding[]; location?: Location | null; cause?: unknown },
  )
  name: 'PortConventionError'
  /**
   * The core library's stable error code (`validation-failed`, `io`,
   * `invalid-port-spec` ...: every code is listed in the project's
   * docs/json-output.md, generated from the core's one declaration);
   * `invalid-argument` also for an argument of the wrong type.
   */
  code: string
  /** Every problem of a `validation-failed` error; empty for other codes. */
  findings: Finding[]
  /** Where in a file the error is, for errors tied to one; otherwise `null`. */
  location: Location | null
}
