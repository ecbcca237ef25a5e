// The ES module entry point of the `port-convention` package: the same
// functions and the same `PortConventionError` class as the CommonJS one.
import portConvention from './main.js'

export const {
  PortConventionError,
  loadPorts,
  parsePortSpec,
  interpolate,
  parseDotenv,
  validateConvention,
  allocate,
  check,
  rules,
} = portConvention

export default portConvention
