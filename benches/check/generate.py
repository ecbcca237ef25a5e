#!/usr/bin/env python3
"""Writes a synthetic monorepo for benchmarking `port-convention check`.

    python3 benches/check/generate.py target/bench-monorepo [--seed N] [--force]

Deterministic: the same arguments give byte-identical trees. By default the
tree has 2,000 compose files in nested project folders, 20,000 `ports:`
entries across them (ranges expand to a few more host-port mappings), 1,000
`.env`-style files, a `ports.yaml` convention at the root (`--no-convention`
leaves it out) and `bench-manifest.json`, which lists the compose and env
files and what was planted.

Only Python 3.11's standard library is used. The file names are the ones
both tools pick up when they walk a directory: `docker-compose.yml`,
`compose.yaml`, `docker-compose.<x>.yml` and `compose.<x>.yaml` (dclint
matches `^(?:docker-)?compose.*\\.ya?ml$`; port-convention matches
`compose`, `docker-compose`, `compose.*` and `docker-compose.*` stems), and no
folder name contains `node_modules`, `.git`, `.idea` or `.tsimp`, which
dclint skips by substring. Every compose file is valid against the Compose
schema that dclint validates with, so dclint runs all of its rules on each.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------
# Vocabulary

DOMAINS = [
    "payments", "ledger", "risk", "pricing", "orders", "catalog", "search",
    "auth", "identity", "billing", "notify", "analytics", "reporting",
    "inventory", "shipping", "fraud", "market-data", "quotes", "portfolio",
    "accounts", "onboarding", "kyc", "audit", "gateway", "media", "chat",
    "feeds", "recommend", "features", "etl", "warehouse", "settlement",
    "clearing", "treasury", "compliance", "crm", "support", "docs", "cms",
    "checkout", "cart", "loyalty", "ads", "geo", "maps", "routing", "fleet",
    "telemetry", "alerts", "scheduler", "backtest", "signals", "execution",
]
NOUNS = [
    "api", "worker", "web", "admin", "service", "engine", "sync", "ingest",
    "stream", "proxy", "console", "portal", "backend", "frontend", "collector",
    "exporter", "indexer", "bridge", "hub", "store", "cache", "jobs",
]
TEAMS = ["core", "growth", "platform", "quant", "data", "sre", "mobile", "risk", "ops", "infra"]
VARIANTS = ["dev", "prod", "test", "ci", "local", "staging", "monitoring", "db", "debug", "gpu", "e2e", "tools"]

# (kind, image, container ports "port[/proto]", environment)
TEMPLATES = [
    ("api", "ghcr.io/acme/{name}:{tag}", ["8080", "9229"], {"LOG_LEVEL": "info", "NODE_ENV": "production"}),
    ("web", "nginx:1.27-alpine", ["80", "443"], {"NGINX_ENTRYPOINT_QUIET_LOGS": "1"}),
    ("python", "ghcr.io/acme/{name}:{tag}", ["8000", "5678"], {"PYTHONUNBUFFERED": "1", "WORKERS": "4"}),
    ("postgres", "postgres:16.4-alpine", ["5432"], {"POSTGRES_USER": "app", "POSTGRES_DB": "app"}),
    ("redis", "redis:7.4-alpine", ["6379"], {}),
    ("rabbitmq", "rabbitmq:3.13-management", ["5672", "15672"], {"RABBITMQ_DEFAULT_USER": "guest"}),
    ("kafka", "bitnami/kafka:3.8", ["9092", "9093", "9094"], {"KAFKA_CFG_NODE_ID": "0"}),
    ("elasticsearch", "elasticsearch:8.15.0", ["9200", "9300"], {"discovery.type": "single-node"}),
    ("kibana", "kibana:8.15.0", ["5601"], {"ELASTICSEARCH_HOSTS": "http://elasticsearch:9200"}),
    ("grafana", "grafana/grafana:11.2.0", ["3000"], {"GF_SECURITY_ADMIN_USER": "admin"}),
    ("prometheus", "prom/prometheus:v2.54.1", ["9090"], {}),
    ("jaeger", "jaegertracing/all-in-one:1.60", ["16686", "4317", "4318", "6831/udp", "6832/udp"], {"COLLECTOR_OTLP_ENABLED": "true"}),
    ("minio", "minio/minio:RELEASE.2024-09-13T20-26-02Z", ["9000", "9001"], {"MINIO_ROOT_USER": "minio"}),
    ("mongo", "mongo:7.0", ["27017"], {"MONGO_INITDB_ROOT_USERNAME": "root"}),
    ("mysql", "mysql:8.4", ["3306", "33060"], {"MYSQL_DATABASE": "app"}),
    ("dns", "coredns/coredns:1.11.3", ["53/udp", "53", "9153"], {}),
    ("statsd", "statsd/statsd:v0.10.2", ["8125/udp", "8126"], {}),
    ("mailhog", "mailhog/mailhog:v1.0.1", ["1025", "8025"], {}),
    ("keycloak", "quay.io/keycloak/keycloak:25.0", ["8080", "8443", "9000"], {"KC_HEALTH_ENABLED": "true"}),
    ("node-exporter", "prom/node-exporter:v1.8.2", ["9100"], {}),
]
DATA_KINDS = {"postgres", "redis", "mongo", "mysql", "elasticsearch", "kafka", "minio", "rabbitmq"}

# Top-level groups of the monorepo and the convention range each one uses.
GROUPS = [
    # (folder, range name, first port, last port, weight). All below Linux's
    # ephemeral range (32768-60999).
    ("apps", "apps", 2000, 7999, 20),
    ("services", "services", 8000, 16999, 30),
    ("data", "data", 17000, 21999, 15),
    ("tools", "tools", 22000, 26999, 15),
    ("infra", "infra", 27000, 31999, 15),
    ("teams", "services", 8000, 16999, 5),
]


# --------------------------------------------------------------------------
# Plan


@dataclass
class Entry:
    """One `ports:` entry as written, with what it publishes."""

    lines: list[str]  # YAML lines below `ports:` (without indentation)
    published: list[tuple[int, str]]  # (host port, protocol) after interpolation


@dataclass
class Project:
    folder: str  # relative, with `/`
    name: str
    group: str
    range_name: str
    started: bool = False
    env_vars: dict[str, str] = field(default_factory=dict)  # port variables, in order
    has_env: bool = False
    compose_names: list[str] = field(default_factory=list)
    # (compose service, compose file, variable, port, container port, protocol)
    declarable: tuple[str, str, str, int, int, str] | None = None


class Ports:
    """Hands out host ports: fresh ones packed upwards through the group's
    range (each project's ports together, a small random gap between
    projects), or, to plant a clash, one already published elsewhere."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.cursor: dict[str, int] = {}
        self.last: dict[str, int] = {}
        for _, range_name, first, last, _ in GROUPS:
            self.cursor[range_name] = first
            self.last[range_name] = last
        self.published: list[tuple[int, str, str]] = []  # (port, proto, project folder)

    def fresh(self, project: Project, count: int = 1) -> int:
        if not project.started:
            project.started = True
            self.cursor[project.range_name] += self.rng.randint(0, 4)
        port = self.cursor[project.range_name]
        self.cursor[project.range_name] += count
        if self.cursor[project.range_name] - 1 > self.last[project.range_name]:
            sys.exit(f"generate.py: range {project.range_name} is full; use fewer --mappings")
        return port

    def clash(self, project: Project, proto: str) -> int | None:
        candidates = [p for p in self.published[-4000:] if p[1] == proto and p[2] != project.folder]
        if not candidates:
            return None
        return self.rng.choice(candidates)[0]


def quote(text: str, style: str) -> str:
    if style == "double":
        return f'"{text}"'
    if style == "single":
        return f"'{text}'"
    return text


class Generator:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed)
        self.ports = Ports(random.Random(args.seed + 1))
        self.projects: list[Project] = []
        self.used_folders: set[str] = set()
        self.stats = {
            "entries": 0,
            "host_port_mappings": 0,
            "planted_clashes": 0,
            "variable_entries": 0,
            "long_syntax_entries": 0,
            "range_entries": 0,
            "udp_entries": 0,
            "loopback_entries": 0,
            "container_only_entries": 0,
            "files_with_anchors": 0,
        }

    # ---------------------------------------------------------------- layout

    def project_folder(self, group: str) -> tuple[str, str]:
        rng = self.rng
        for attempt in range(1000):
            name = f"{rng.choice(DOMAINS)}-{rng.choice(NOUNS)}"
            if attempt > 50:
                name += f"-{attempt}"
            if group == "teams":
                parts = ["teams", rng.choice(TEAMS), rng.choice(["apps", "services", "jobs"]), name]
            elif rng.random() < 0.5:
                parts = [group, rng.choice(DOMAINS), name]
            else:
                parts = [group, name]
            if rng.random() < 0.2:
                parts.append(rng.choice(["deploy", "docker", "ops/compose"]))
            folder = "/".join(parts)
            if folder not in self.used_folders and not any(
                folder.startswith(f + "/") or f.startswith(folder + "/") for f in self.used_folders
                if f.split("/")[0] == parts[0]
            ):
                self.used_folders.add(folder)
                return folder, name
        raise RuntimeError("no free folder name")

    def plan_projects(self) -> None:
        rng = self.rng
        target = self.args.compose_files
        made = 0
        weights = [g[4] for g in GROUPS]
        while made < target:
            group, range_name = rng.choices([(g[0], g[1]) for g in GROUPS], weights)[0]
            folder, name = self.project_folder(group)
            project = Project(folder=folder, name=name, group=group, range_name=range_name)
            count = min(target - made, rng.choices([1, 2, 3, 4], [45, 30, 15, 10])[0])
            docker_style = rng.random() < 0.6
            names = ["docker-compose.yml" if docker_style else "compose.yaml"]
            variants = rng.sample(VARIANTS, count - 1)
            for variant in variants:
                names.append(f"docker-compose.{variant}.yml" if docker_style else f"compose.{variant}.yaml")
            project.compose_names = names
            self.projects.append(project)
            made += count

        # `.env` next to the compose files of most projects; the rest of the
        # env-file budget goes to `.env.example` and `config/*.env` files.
        budget = self.args.env_files
        order = list(range(len(self.projects)))
        rng.shuffle(order)
        with_env = order[: min(budget, int(len(order) * 0.8))]
        for i in with_env:
            self.projects[i].has_env = True
        self.extra_env: list[tuple[Project, str]] = []
        left = budget - len(with_env)
        i = 0
        while left > 0:
            project = self.projects[order[i % len(order)]]
            i += 1
            if i <= len(order) and project.has_env and rng.random() < 0.5:
                self.extra_env.append((project, ".env.example"))
            else:
                self.extra_env.append((project, f"config/{rng.choice(['app', 'db', 'worker', 'secrets'])}-{i}.env"))
            left -= 1

    # ---------------------------------------------------------------- ports

    def entry_counts(self) -> list[int]:
        rng = self.rng
        files = sum(len(p.compose_names) for p in self.projects)
        counts = []
        for _ in range(files):
            low, high = rng.choices([(1, 3), (4, 8), (9, 14), (15, 25), (26, 40)], [15, 35, 30, 15, 5])[0]
            counts.append(rng.randint(low, high))
        target = self.args.mappings
        while sum(counts) != target:
            i = rng.randrange(files)
            if sum(counts) > target:
                if counts[i] > 1:
                    counts[i] -= 1
            else:
                counts[i] += 1
        return counts

    def host_port(self, project: Project, proto: str) -> tuple[int, bool]:
        if self.rng.random() < self.args.clash_rate:
            port = self.ports.clash(project, proto)
            if port is not None:
                return port, True
        return self.ports.fresh(project), False

    def variable(self, project: Project, service: str, container: str, value: int) -> str:
        base = f"{project.name}_{service}_{container}".upper().replace("-", "_").replace("/", "_")
        name = f"{base}_PORT"
        n = 2
        while name in project.env_vars:
            name = f"{base}_PORT_{n}"
            n += 1
        project.env_vars[name] = str(value)
        if project.declarable is None:
            target, _, proto = container.partition("/")
            project.declarable = (service, self.current_file, name, value, int(target), proto or "tcp")
        return name

    def entry(self, project: Project, service: str, container: str, data_service: bool) -> Entry:
        """One ports entry; `container` is "port" or "port/udp"."""
        rng = self.rng
        target, _, proto = container.partition("/")
        proto = proto or "tcp"
        self.stats["entries"] += 1
        loopback = rng.random() < (0.75 if data_service else 0.12)
        ip = "127.0.0.1:" if loopback else ("0.0.0.0:" if rng.random() < 0.03 else "")
        suffix = "/udp" if proto == "udp" else ""
        comment = f"  # {rng.choice(['http', 'admin', 'metrics', 'debug', 'grpc', 'ui', 'health'])}" if rng.random() < 0.1 else ""
        kind = rng.choices(
            ["literal", "variable", "plain-var", "range", "long", "container-only"],
            [48, 28, 4, 3, 14, 3],
        )[0]
        if kind == "plain-var" and not project.has_env:
            kind = "variable"
        if kind == "range" and proto == "udp":
            kind = "literal"

        if kind == "container-only":
            self.stats["container_only_entries"] += 1
            if proto == "tcp" and rng.random() < 0.5:
                return Entry([f"- {target}{comment}"], [])
            return Entry([f"- {quote(container, 'double')}{comment}"], [])

        if kind == "range":
            size = rng.randint(2, 5)
            first = self.ports.fresh(project, size)
            last = first + size - 1
            self.stats["range_entries"] += 1
            self.stats["host_port_mappings"] += size
            spec = f"{ip}{first}-{last}:{int(target)}-{int(target) + size - 1}"
            return Entry([f"- {quote(spec, 'double')}{comment}"], [(p, proto) for p in range(first, last + 1)])

        port, clashed = self.host_port(project, proto)
        self.stats["planted_clashes"] += int(clashed)
        self.stats["host_port_mappings"] += 1
        self.stats["udp_entries"] += int(proto == "udp")
        self.stats["loopback_entries"] += int(loopback)
        self.ports.published.append((port, proto, project.folder))

        if kind == "long":
            self.stats["long_syntax_entries"] += 1
            lines = [f"- target: {target}"]
            style = rng.choice(["int", "string", "variable"])
            if style == "int":
                lines.append(f"  published: {port}")
            elif style == "string":
                lines.append(f'  published: "{port}"')
            else:
                var = self.variable(project, service, container, port)
                default = port if rng.random() < 0.7 or not project.has_env else port + 1
                lines.append(f'  published: "${{{var}:-{default}}}"')
                self.stats["variable_entries"] += 1
            if loopback:
                lines.append("  host_ip: 127.0.0.1")
            lines.append(f"  protocol: {proto}")
            if rng.random() < 0.5:
                lines.append("  mode: host")
            if rng.random() < 0.2:
                lines.append(f"  name: {service}-{target}")
            return Entry(lines, [(port, proto)])

        if kind in ("variable", "plain-var"):
            var = self.variable(project, service, container, port)
            self.stats["variable_entries"] += 1
            if kind == "plain-var":
                host = f"${{{var}}}"
            else:
                # With a .env the variable wins; its default may be a stale port.
                default = port if rng.random() < 0.7 or not project.has_env else port + 1
                host = f"${{{var}:-{default}}}"
            spec = f"{ip}{host}:{target}{suffix}"
            return Entry([f"- {quote(spec, rng.choice(['double', 'double', 'single']))}{comment}"], [(port, proto)])

        spec = f"{ip}{port}:{target}{suffix}"
        style = rng.choices(["double", "single", "plain"], [75, 12, 13])[0]
        if style == "plain" and (int(target) < 60 or ip):
            style = "double"  # YAML 1.1 would read 22:22 as base 60; keep it a string
        return Entry([f"- {quote(spec, style)}{comment}"], [(port, proto)])

    # ---------------------------------------------------------------- files

    def compose_file(self, project: Project, file_name: str, entries: int, primary: bool) -> str:
        rng = self.rng
        self.current_file = f"{project.folder}/{file_name}"
        out: list[str] = []
        if rng.random() < 0.6:
            out.append(f"# {project.name}: {'local stack' if primary else file_name.split('.')[1] + ' overrides'}")
            out.append(f"# Owned by team {rng.choice(TEAMS)}. Ports are assigned in ports.yaml at the repo root.")
        if rng.random() < 0.15:
            out.append('version: "3.8"')
        if rng.random() < 0.3:
            out.append(f"name: {project.name}{'' if primary else '-' + file_name.split('.')[1]}")
        anchors = rng.random() < 0.06
        services: list[tuple[str, tuple, list[Entry]]] = []
        used_names: set[str] = set()
        left = entries
        while left > 0:
            template = rng.choice(TEMPLATES)
            kind, image, container_ports, _ = template
            name = kind if kind not in used_names else f"{kind}-{len(used_names)}"
            if kind in ("api", "python", "web") and rng.random() < 0.6:
                name = f"{project.name}-{kind}" if f"{project.name}-{kind}" not in used_names else name
            used_names.add(name)
            want = min(left, rng.randint(1, len(container_ports) + 2))
            ports = [container_ports[i] if i < len(container_ports) else str(9100 + i) for i in range(want)]
            service_entries = [self.entry(project, name, c, kind in DATA_KINDS or project.group == "data") for c in ports]
            services.append((name, template, service_entries))
            left -= want
        # A few services publish nothing.
        for _ in range(rng.choices([0, 1, 2], [60, 30, 10])[0]):
            name = f"worker-{len(used_names)}"
            used_names.add(name)
            services.append((name, ("worker", "ghcr.io/acme/{name}:{tag}", [], {"QUEUE": "default"}), []))

        anchor_service = None
        if anchors:
            self.stats["files_with_anchors"] += 1
            out.append("x-common: &common")
            out.append("  restart: unless-stopped")
            out.append("  logging:")
            out.append("    driver: json-file")
            out.append("    options:")
            out.append('      max-size: "10m"')
            out.append('      max-file: "3"')
            # The ports of the first service are written once, under x-ports.
            anchor_service = services[0][0]
            if services[0][2]:
                out.append("x-ports: &first-ports")
                for entry in services[0][2]:
                    for line in entry.lines:
                        out.append("  " + line)
        out.append("")
        out.append("services:")
        names = [s[0] for s in services]
        for index, (name, template, service_entries) in enumerate(services):
            kind, image, _, environment = template
            if rng.random() < 0.2:
                out.append(f"  # {kind} for {project.name}")
            out.append(f"  {name}:")
            if anchors:
                out.append("    <<: *common")
            tag = f"{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            out.append(f"    image: {image.format(name=project.name + '-' + kind, tag=tag)}")
            if rng.random() < 0.3:
                out.append(f"    container_name: {project.name}-{name}")
            if not anchors:
                out.append(f"    restart: {rng.choice(['unless-stopped', 'always', 'on-failure'])}")
            if environment or rng.random() < 0.5:
                out.append("    environment:")
                for key, value in environment.items():
                    out.append(f'      {key}: "{value}"')
                out.append(f"      SERVICE_NAME: {name}")
            if service_entries:
                if anchors and name == anchor_service:
                    out.append("    ports: *first-ports")
                else:
                    out.append("    ports:")
                    for entry in service_entries:
                        for line in entry.lines:
                            out.append("      " + line)
            if index > 0 and rng.random() < 0.5:
                out.append("    depends_on:")
                for dep in rng.sample(names[:index], min(index, rng.randint(1, 2))):
                    out.append(f"      - {dep}")
            if rng.random() < 0.4:
                out.append("    volumes:")
                out.append(f"      - ./data/{name}:/var/lib/{kind}")
            if rng.random() < 0.3:
                out.append("    healthcheck:")
                out.append(f'      test: ["CMD", "wget", "-qO-", "http://localhost/health"]')
                out.append("      interval: 30s")
                out.append("      timeout: 5s")
                out.append("      retries: 3")
            if rng.random() < 0.2:
                out.append("    labels:")
                out.append(f"      com.acme.team: {rng.choice(TEAMS)}")
                out.append(f"      com.acme.project: {project.name}")
        if rng.random() < 0.2:
            out.append("")
            out.append("volumes:")
            out.append("  cache: {}")
        return "\n".join(out) + "\n"

    def env_file(self, project: Project, example: bool) -> str:
        rng = self.rng
        out = [f"# Environment of {project.name} (read by docker compose for interpolation)"]
        out.append(f"COMPOSE_PROJECT_NAME={project.name}")
        out.append("")
        out.append("# Host ports")
        items = list(project.env_vars.items())
        for key, value in items:
            style = rng.choices(["plain", "double", "single", "export", "colon"], [70, 12, 6, 8, 4])[0]
            if style == "double":
                out.append(f'{key}="{value}"')
            elif style == "single":
                out.append(f"{key}='{value}'")
            elif style == "export":
                out.append(f"export {key}={value}")
            elif style == "colon":
                out.append(f"{key}: {value}")
            else:
                out.append(f"{key}={value}")
        if items and rng.random() < 0.01:
            key, value = items[0]
            out.append(f"{key}={value}  # duplicated on purpose")
        out.append("")
        out.append("# Application")
        out.append(f"IMAGE_TAG={rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}")
        out.append(f"LOG_LEVEL={rng.choice(['debug', 'info', 'warn'])}")
        out.append('POSTGRES_PASSWORD="change-me"')
        out.append(f"DATABASE_URL=postgres://app:${{POSTGRES_PASSWORD}}@db:5432/{project.name.replace('-', '_')}")
        if rng.random() < 0.3:
            out.append(f"FEATURE_FLAGS=alpha,beta  # {rng.choice(['temporary', 'see ADR-12', 'remove after Q3'])}")
        return "\n".join(out) + "\n"

    def config_env(self, project: Project) -> str:
        rng = self.rng
        return "\n".join([
            f"# Container environment of {project.name} (env_file:, not interpolation)",
            f"APP_NAME={project.name}",
            f"WORKERS={rng.randint(1, 16)}",
            f"CACHE_TTL={rng.randint(10, 3600)}",
            f"UPSTREAM_URL=http://{rng.choice(DOMAINS)}-api:8080",
        ]) + "\n"

    def convention(self) -> str:
        out = [
            "# Port convention of the synthetic benchmark monorepo (benches/check/generate.py).",
            "version: 1.0.0",
            "name: bench-monorepo",
            "description: Generated; each top-level folder publishes in its own range",
            "",
            "ranges:",
        ]
        seen = set()
        for _, range_name, first, last, _ in GROUPS:
            if range_name in seen:
                continue
            seen.add(range_name)
            out.append(f"  {range_name}:")
            out.append(f"    ports: {first}-{last}")
            if range_name == "data":
                out.append("    bind: loopback")
        out.append("  reserved:")
        out.append("    ports: 32000-32767")
        out.append("    reserved: true")
        out.append("")
        out.append("services:")
        # One declared service in every 25th project: the first one published
        # through a variable, with the port it really gets (every 5th one is
        # declared with another port, so the check finds some drift).
        declared = 0
        for project in self.projects[::25]:
            if project.declarable is None:
                continue
            service, file, var, port, container, proto = project.declarable
            if declared % 5 == 4:
                port = self.ports.fresh(project)
            out.append(f"  {project.name}-{declared}:")
            out.append(f"    range: {project.range_name}")
            out.append(f"    compose: {{ service: {service}, file: {file} }}")
            out.append("    ports:")
            out.append(f"      main: {{ port: {port}, env: {var}, container: {container}, protocol: {proto} }}")
            declared += 1
        self.stats["declared_services"] = declared
        return "\n".join(out) + "\n"

    # ---------------------------------------------------------------- write

    def write(self, root: Path) -> dict:
        self.plan_projects()
        counts = iter(self.entry_counts())
        files: dict[str, str] = {}
        compose_files: list[str] = []
        env_files: list[str] = []
        for project in self.projects:
            for i, name in enumerate(project.compose_names):
                path = f"{project.folder}/{name}"
                files[path] = self.compose_file(project, name, next(counts), i == 0)
                compose_files.append(path)
            if project.has_env:
                path = f"{project.folder}/.env"
                files[path] = self.env_file(project, example=False)
                env_files.append(path)
            # Some READMEs and Dockerfiles that neither tool reads.
            files[f"{project.folder}/README.md"] = f"# {project.name}\n\nRun `docker compose up`.\n"
            if self.rng.random() < 0.5:
                files[f"{project.folder}/Dockerfile"] = "FROM alpine:3.20\nCMD [\"true\"]\n"
        for project, name in self.extra_env:
            path = f"{project.folder}/{name}"
            files[path] = self.env_file(project, example=True) if name == ".env.example" else self.config_env(project)
            env_files.append(path)
        if not self.args.no_convention:
            files["ports.yaml"] = self.convention()
        assert len(compose_files) == self.args.compose_files, len(compose_files)
        assert len(env_files) == self.args.env_files, len(env_files)
        assert len(set(files)) == len(files)

        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        compose_bytes = sum(len(files[f].encode()) for f in compose_files)
        env_bytes = sum(len(files[f].encode()) for f in env_files)
        manifest = {
            "generator": "benches/check/generate.py",
            "seed": self.args.seed,
            "compose_files": len(compose_files),
            "env_files": len(env_files),
            "other_files": len(files) - len(compose_files) - len(env_files),
            "convention": not self.args.no_convention,
            "compose_bytes": compose_bytes,
            "env_bytes": env_bytes,
            "projects": len(self.projects),
            **self.stats,
            "compose": compose_files,
            "env": env_files,
        }
        (root / "bench-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write (must be empty or absent, unless --force)")
    parser.add_argument("--seed", type=int, default=20251104)
    parser.add_argument("--compose-files", type=int, default=2000)
    parser.add_argument("--env-files", type=int, default=1000)
    parser.add_argument("--mappings", type=int, default=20000, help="ports: entries in all compose files")
    parser.add_argument("--clash-rate", type=float, default=0.02, help="share of entries reusing a published port")
    parser.add_argument("--no-convention", action="store_true", help="write no ports.yaml")
    parser.add_argument("--force", action="store_true", help="delete OUT first")
    args = parser.parse_args()
    if args.mappings < args.compose_files:
        parser.error("--mappings must be at least --compose-files")
    if args.out.exists():
        if args.force:
            shutil.rmtree(args.out)
        elif any(args.out.iterdir()):
            parser.error(f"{args.out} is not empty (use --force to replace it)")
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = Generator(args).write(args.out)
    summary = {k: v for k, v in manifest.items() if k not in ("compose", "env")}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
