// Backend configuration (runs on the host).
const timescale = {
  host: process.env.TIMESCALEDB_HOST ?? 'localhost',
  port: Number(process.env.TIMESCALEDB_PORT ?? 5433),
};
const qdrantUrl = process.env.QDRANT_URL || 'http://localhost:6333';
const redisPort = toInt(process.env.REDIS_PORT, 6380);
// port-convention: ignore[stale-port]
const legacyReplica = Number(process.env.TIMESCALEDB_PORT ?? 5433);
const current = Number(process.env.TIMESCALEDB_PORT ?? 7000);
module.exports = { timescale, qdrantUrl, redisPort, legacyReplica, current };
