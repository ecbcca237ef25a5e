import os

DB_PORT = int(os.environ.get("TIMESCALEDB_PORT", "5433"))
REDIS_PORT = int(os.getenv("REDIS_PORT") or 6380)
# In the compose network the service name and the container port are right:
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://app@timescaledb:5432/trading")
QDRANT = "http://qdrant:6333"
WRONG_IN_NETWORK = "postgres://app@timescaledb:7000/trading"
