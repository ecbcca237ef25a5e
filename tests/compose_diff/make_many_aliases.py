"""Writes tests/projects/many-aliases/docker-compose.yml: 10 anchors, ~150 aliases.

Run from the repository root: python3 tests/compose_diff/make_many_aliases.py
The output is committed; this script only documents how it was made.
"""

from pathlib import Path

SERVICES = 30  # 5 aliases per service -> 150 aliases

head = """\
# Models large self-hosted products' compose files (Sentry self-hosted, Mastodon, Supabase style): x- anchors merged with <<: and reused port lists.
x-restart: &restart_policy unless-stopped
x-logging: &logging
  driver: json-file
  options:
    max-size: 10m
x-env: &common_env
  TZ: UTC
  LOG_LEVEL: info
x-healthcheck: &healthcheck
  interval: 30s
  timeout: 5s
  retries: 3
x-labels: &labels
  com.example.stack: many-aliases
x-common: &common
  restart: *restart_policy
  logging: *logging
  labels: *labels
x-worker: &worker
  <<: *common
  image: ghcr.io/example/worker:1
x-web-ports: &web_ports
  - "8080:80"
  - "127.0.0.1:8443:443"
x-metrics-ports: &metrics_ports
  - "9100"
x-debug-ports: &debug_ports
  - "127.0.0.1::9229"
services:
  web:
    <<: *common
    image: nginx:1.27
    environment: *common_env
    healthcheck: *healthcheck
    ports: *web_ports
  web-canary:
    <<: *common
    image: nginx:1.27
    environment: *common_env
    ports: *web_ports
"""

parts = [head]
for i in range(SERVICES):
    ports = "*metrics_ports" if i % 3 else "*debug_ports"
    parts.append(
        f"""\
  worker-{i:02d}:
    <<: *worker
    environment: *common_env
    healthcheck: *healthcheck
    labels: *labels
    ports: {ports}
"""
    )
out = Path(__file__).resolve().parents[1] / "projects" / "many-aliases" / "docker-compose.yml"
out.parent.mkdir(parents=True, exist_ok=True)
text = "".join(parts)
out.write_text(text)
print(out, "aliases:", text.count(" *"), "anchors:", text.count(" &"))
