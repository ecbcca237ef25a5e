#!/usr/bin/env python3
"""A stand-in for `port-convention projects ROOT --format json` that answers
from tests/projects/<basename of ROOT>/expected.json, for checking the
harness itself (test_harness_selfcheck.py):

    PORT_CONVENTION_BIN=tests/compose_diff/oracle_cli.py pytest tests/compose_diff

passes, and ORACLE_MUTATE=<mutation> makes it answer wrongly in one way, which
the differential tests must catch:

    port        the first published port of the first project is off by one
    dedup       the first port of the first project is listed twice
    drop        the first default project is missing
    no-error    projects that compose refuses are reported without error
    fragment    the first project's first file is reported as a fragment
    skip        a project file is reported as skipped
    env-files   default projects report no env files
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PROJECTS = Path(__file__).resolve().parents[1] / "projects"


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] != "projects" or argv[2:] != ["--format", "json"]:
        print(f"error: unrecognized subcommand '{argv[0] if argv else ''}'", file=sys.stderr)
        return 2
    name = Path(argv[1]).name
    expected = json.loads((PROJECTS / name / "expected.json").read_text(encoding="utf-8"))
    projects = []
    for want in expected["projects"]:
        project = {k: want[k] for k in ("id", "kind", "directory", "files", "profiles", "env_files")}
        project["name"] = want.get("name", name)
        project["services"] = {s: {"ports": p} for s, p in want.get("services", {}).items()}
        project["error"] = (
            {"code": "compose-error", "message": want["error"]["contains"]} if want["error"] else None
        )
        projects.append(project)
    out = {
        "schema": "port-convention/projects",
        "version": 1,
        "projects": projects,
        "fragments": [{"file": f["file"], "reason": f["error_contains"]} for f in expected["fragments"]],
        "skipped": [{"file": f, "reason": "vendored directory"} for f in expected["skipped"]],
    }
    mutate(out, os.environ.get("ORACLE_MUTATE", ""))
    print(json.dumps(out, indent=2))
    return 0


def mutate(out: dict, how: str) -> None:
    projects = out["projects"]
    with_ports = [p for p in projects if any(s["ports"] for s in p["services"].values())]
    if how == "port":
        ports = next(s["ports"] for s in with_ports[0]["services"].values() if s["ports"])
        port = next(p for p in ports if "published" in p)
        port["published"] = str(int(port["published"].split("-")[0]) + 1)
    elif how == "dedup":
        ports = next(s["ports"] for s in with_ports[0]["services"].values() if s["ports"])
        ports.append(dict(ports[0]))
    elif how == "drop":
        projects.remove(next(p for p in projects if p["kind"] == "default"))
    elif how == "no-error":
        for project in projects:
            project["error"] = None
    elif how == "fragment":
        out["fragments"].append({"file": projects[0]["files"][0], "reason": "mutated"})
    elif how == "skip":
        out["skipped"].append({"file": projects[0]["files"][0], "reason": "mutated"})
    elif how == "env-files":
        for project in projects:
            if project["kind"] == "default":
                project["env_files"] = []
    elif how:
        raise SystemExit(f"unknown ORACLE_MUTATE={how}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
