// Type-checked (never run) by types.test.js: the CommonJS entry point's
// declarations, used as a TypeScript backend would.
import pc = require('port-convention')
import type { Finding, LoadedPorts, PortMapping, Report, RuleInfo } from 'port-convention'

const loaded: LoadedPorts = pc.loadPorts({ convention: 'ports.yaml', env: { A: undefined }, envFiles: ['.env'], cwd: '.' })
const port: number | undefined = loaded.ports.TIMESCALEDB_PORT
const name: string | null = loaded.convention.name
const mappings: PortMapping[] = pc.parsePortSpec('127.0.0.1:7000:5432', { PG_PORT: '7000' })
const hostIp: string = mappings[0].host_ip
pc.parsePortSpec(5432)
pc.parsePortSpec({ target: 5432, published: '7000', 'x-note': true })
const taken: boolean = pc.interpolate('${A:-1}', {}).uses[0].default_taken
const values: Record<string, string> = pc.parseDotenv('A=1').values
const firstLine: number = pc.parseDotenv('A=1', {}).duplicates[0].first_line
const findings: Finding[] = pc.validateConvention('ports.yaml')
const ports: number[] = pc.allocate('db', { convention: 'ports.yaml', count: 2 })
const pending: Promise<Report> = pc.check('.', { convention: 'ports.yaml', envFiles: [], env: {} })
const errors: Promise<number> = pending.then((report) => report.summary.errors)
const rules: RuleInfo[] = pc.rules()
const subject: RuleInfo['subject'] = rules[0].subject

try {
  pc.loadPorts()
} catch (err) {
  if (err instanceof pc.PortConventionError) {
    const code: string = err.code
    const variables: (string | undefined)[] = err.findings.map((f) => f.variable)
    const line: number | undefined = err.location?.line
    const message: string = err.message
    void [code, variables, line, message]
  }
}

void [port, name, hostIp, taken, values, firstLine, findings, ports, errors, rules, subject]

// @ts-expect-error: options are checked (envFiles, not envFile)
pc.loadPorts({ envFile: ['.env'] })
// @ts-expect-error: interpolate needs an environment
pc.interpolate('${A}')
