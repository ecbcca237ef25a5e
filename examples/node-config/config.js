'use strict'
// What a backend's config.js looks like with port-convention.
//
// Before: every backend read its ports by hand, with no validation and with
// defaults that drifted from the compose files:
//
//   const port = Number(process.env.TIMESCALEDB_PORT ?? process.env.WORKSPACE_DATABASE_PORT ?? 5433)
//
// After: the ports come from the convention (examples/trading-system/ports.yaml),
// with environment overrides validated against it. A bad value (`07000`,
// `7000abc`, a port outside the service's range, in a reserved range, or
// taken by another service) makes this file throw a PortConventionError that
// lists every problem at once, so the backend refuses to start with a wrong
// port instead of connecting to the wrong database.
//
// Run it:  node examples/node-config/config.js
//          TIMESCALEDB_PORT=7005 node examples/node-config/config.js
//          TIMESCALEDB_PORT=07000 REDIS_PORT=80 node examples/node-config/config.js   # fails

const path = require('node:path')
const { loadPorts } = require('port-convention')

// A backend of the monorepo would rely on the default (`ports.yaml` found
// upward from the working directory); this example names the file.
const { convention, ports, services } = loadPorts({
  convention: path.join(__dirname, '..', 'trading-system', 'ports.yaml'),
  // env: process.env is the default; envFiles: ['.env'] would read a .env
  // file first (the environment wins over it).
})

/** Freezes `object` and every object inside it. */
function deepFreeze(object) {
  for (const value of Object.values(object)) {
    if (value !== null && typeof value === 'object') deepFreeze(value)
  }
  return Object.freeze(object)
}

const host = process.env.DATABASE_HOST || '127.0.0.1'

const config = deepFreeze({
  convention: `${convention.name}@${convention.version}`,
  timescaledb: {
    host,
    port: ports.TIMESCALEDB_PORT,
    backupPort: ports.TIMESCALEDB_BACKUP_PORT,
  },
  questdb: {
    host,
    httpPort: services.questdb.http,
    ilpPort: services.questdb.ilp,
    influxPort: services.questdb.influx,
  },
  qdrant: {
    url: `http://${host}:${ports.QDRANT_HTTP_PORT}`,
    grpcPort: ports.QDRANT_GRPC_PORT,
  },
  redis: {
    url: `redis://${host}:${ports.REDIS_PORT}`,
  },
})

module.exports = config

if (require.main === module) {
  console.log(JSON.stringify(config, null, 2))
}
