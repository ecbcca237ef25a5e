# History: used to be localhost:5433; now TIMESCALEDB_PORT (7000).
"""Docstring: the old port 5433 is gone."""
VERSION = "5.4.33"
TIMEOUT = 7000
trace = 'File "worker.py", line 5433, in connect'
go_trace = "/src/app/main.go:6380 +0x1d"
ratio = 6380.5
