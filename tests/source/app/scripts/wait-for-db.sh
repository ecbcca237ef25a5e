#!/bin/sh
# Waits for TimescaleDB (it used to listen on 5433 before the migration).
PORT="${TIMESCALEDB_PORT:-5433}"
pg_isready -h localhost -p "$PORT"
curl -fsS "http://localhost:${QDRANT_HTTP_PORT:-7020}/healthz"
