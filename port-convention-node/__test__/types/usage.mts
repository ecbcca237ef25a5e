// Type-checked (never run) by types.test.js: the ES module entry point's
// declarations.
import portConvention, { PortConventionError, loadPorts, type LoadedPorts } from 'port-convention'

const loaded: LoadedPorts = loadPorts({ env: { PG_PORT: '7000', UNSET: undefined } })
const same: LoadedPorts = portConvention.loadPorts()
const error = new PortConventionError('boom', { code: 'io' })
const codeOfError: string = error.code

void [loaded, same, codeOfError]
