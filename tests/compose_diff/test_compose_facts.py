"""Facts about Docker Compose v2.40.3 project building that the fixtures do
not show on their own, pinned against the binary (docs/compat-projects.md
cites these tests). Each test writes a throw-away tree and runs
`docker-compose ... config --format json` in a clean environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import compose_harness as h


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def svc(name: str, port: str = "") -> str:
    body = f"services:\n  {name}:\n    image: nginx\n"
    if port:
        body += f'    ports: ["{port}"]\n'
    return body


class Compose:
    def __init__(self, binary: Path, home: Path) -> None:
        self.binary, self.home = binary, home

    def run(self, cwd: Path, *args: str) -> h.ComposeRun:
        # Not memoized: these trees change between calls.
        return h.run_compose(self.binary, list(args), cwd, self.home, memo=False)

    def model(self, cwd: Path, *args: str) -> dict[str, Any]:
        run = self.run(cwd, *args)
        assert run.ok, run.describe()
        return h.compose_model(run)

    def published(self, cwd: Path, *args: str) -> dict[str, list[str]]:
        return {
            name: [p.get("published", "") for p in ports]
            for name, ports in self.model(cwd, *args)["services"].items()
        }


@pytest.fixture
def compose(compose_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Compose:
    return Compose(compose_bin, tmp_path_factory.mktemp("home"))


def test_default_file_order(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {name: svc(name.replace(".", "_")) for name in h.DEFAULT_FILES})
    seen = []
    for name in h.DEFAULT_FILES:
        seen.append(next(iter(compose.model(tmp_path)["services"])))
        (tmp_path / name).unlink()
    assert seen == ["compose_yaml", "compose_yml", "docker-compose_yml", "docker-compose_yaml"]


def test_override_file_order_puts_yml_first(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {"compose.yaml": svc("main")})
    write(tmp_path, {name: svc(name.replace(".", "_")) for name in h.OVERRIDE_FILES})
    seen = []
    for name in h.OVERRIDE_FILES:
        seen.append(sorted(set(compose.model(tmp_path)["services"]) - {"main"}))
        (tmp_path / name).unlink()
    assert seen == [
        ["compose_override_yml"],
        ["compose_override_yaml"],
        ["docker-compose_override_yml"],
        ["docker-compose_override_yaml"],
    ]


def test_upward_search_reads_both_env_files_cwd_first(compose: Compose, tmp_path: Path) -> None:
    """From a directory without a compose file compose uses the nearest
    parent's files (project name and directory = that parent); it reads the
    working directory's .env first and the project's .env after it, the
    first value winning; COMPOSE_FILE in the parent's .env is not applied."""
    write(tmp_path / "app", {
        "compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["${A:-1}:1", "${B:-2}:2"]\n',
        ".env": "A=10\nB=20\nCOMPOSE_FILE=other.yml\n",
        "sub/.env": "A=11\n",
    })
    model = compose.model(tmp_path / "app" / "sub")
    assert model["name"] == "app"
    assert [p["published"] for p in model["services"]["web"]] == ["11", "20"]


def test_explicit_files_read_only_the_project_env(compose: Compose, tmp_path: Path) -> None:
    """With -f the project directory is the first file's directory and only
    its .env is read (not the working directory's)."""
    write(tmp_path, {
        ".env": "A=10\nB=20\n",
        "sub/x.yml": 'services:\n  web:\n    image: nginx\n    ports: ["${A:-1}:1", "${B:-2}:2"]\n',
        "sub/.env": "A=11\n",
    })
    model = compose.model(tmp_path, "-f", "sub/x.yml")
    assert model["name"] == "sub"
    assert sorted(p["published"] for p in model["services"]["web"]) == ["11", "2"]


def test_env_file_flags_replace_dot_env_later_wins_relative_to_cwd(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {
        "p/compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: ["${A:-1}:1", "${B:-2}:2"]\n',
        "p/.env": "A=10\nB=20\n",
        "e/one.env": "A=11\n",
        "e/two.env": "A=12\n",
    })
    assert compose.published(tmp_path, "--project-directory", "p", "--env-file", "e/one.env", "--env-file", "e/two.env") == {
        "web": ["12", "2"]
    }
    run = compose.run(tmp_path, "--project-directory", "p", "--env-file", "one.env")
    assert not run.ok and "couldn't find env file" in run.stderr


def test_profile_flag_replaces_compose_profiles_from_dot_env(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  a:\n    image: x\n    profiles: [a]\n  b:\n    image: x\n    profiles: [b]\n  c:\n    image: x\n",
        ".env": "COMPOSE_PROFILES=a\n",
    })
    assert sorted(compose.model(tmp_path)["services"]) == ["a", "c"]
    assert sorted(compose.model(tmp_path, "--profile", "b")["services"]) == ["b", "c"]


def test_depends_on_a_service_of_an_inactive_profile_fails(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": "services:\n  app:\n    image: x\n    depends_on: [tool]\n  tool:\n    image: x\n    profiles: [t]\n",
    })
    run = compose.run(tmp_path)
    assert not run.ok and 'service "app" depends on undefined service "tool"' in run.stderr
    assert sorted(compose.model(tmp_path, "--profile", "t")["services"]) == ["app", "tool"]


def test_reset_in_a_single_file_and_on_a_service(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {
        "compose.yaml": 'services:\n  web:\n    image: nginx\n    ports: !reset ["8080:80"]\n  db:\n    image: x\n',
        "compose.override.yaml": "services:\n  db: !reset {}\n",
    })
    assert compose.model(tmp_path)["services"] == {"web": []}


def test_port_dedup_key(compose: Compose, tmp_path: Path) -> None:
    """Key host_ip:published:target/protocol, no host_ip counting as
    0.0.0.0; a later entry replaces an earlier one in place; an integer
    long-syntax `published` never matches; ranges are expanded first."""
    write(tmp_path, {
        "compose.yaml": (
            "services:\n  web:\n    image: nginx\n    ports:\n"
            '      - "8080:80"\n      - "0.0.0.0:8080:80"\n      - "[::]:8080:80"\n'
            '      - "8000-8001:8000-8001"\n      - "8000:8000"\n'
            '      - "9000:9000"\n      - {target: 9000, published: 9000}\n'
            '      - {target: 9001, published: 9001}\n      - {target: 9001, published: 9001}\n'
            '      - 7000\n      - "7000"\n'
        ),
    })
    ports = compose.model(tmp_path)["services"]["web"]
    assert sorted((p.get("host_ip", ""), p.get("published", ""), p["target"]) for p in ports) == sorted([
        ("0.0.0.0", "8080", 80),
        ("::", "8080", 80),
        ("", "8000", 8000),
        ("", "8001", 8001),
        ("", "9000", 9000),
        ("", "9000", 9000),
        ("", "9001", 9001),
        ("", "", 7000),
    ])


def test_project_name_normalization(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {"My.App_X/compose.yaml": svc("w"), "_x/compose.yaml": svc("w"),
                     "n/compose.yaml": "name: Bad Name\n" + svc("w")})
    assert compose.model(tmp_path / "My.App_X")["name"] == "myapp_x"
    assert compose.model(tmp_path / "_x")["name"] == "x"
    assert compose.model(tmp_path / "n")["name"] == "badname"


def test_relative_paths_follow_the_project_directory(compose: Compose, tmp_path: Path) -> None:
    """`extends.file`, `include` paths and include `env_file` are resolved
    against the project directory (first file's directory or
    --project-directory), not against the directory of the file that names
    them."""
    write(tmp_path, {
        "a.yml": "services:\n  first:\n    image: x\n",
        "sub/x.yml": "services:\n  w:\n    extends:\n      file: lib/base.yml\n      service: b\n",
        "sub/lib/base.yml": 'services:\n  b:\n    image: x\n    ports: ["1:1"]\n',
        "lib/base.yml": 'services:\n  b:\n    image: x\n    ports: ["2:2"]\n',
        "sub/main.yml": "include:\n  - path: inc/c.yml\n    env_file: vars.env\n",
        "sub/inc/c.yml": 'services:\n  c:\n    image: x\n    ports: ["${P:-0}:1"]\n',
        "inc/c.yml": 'services:\n  c:\n    image: x\n    ports: ["${P:-0}:2"]\n',
        "sub/vars.env": "P=10\n",
        "vars.env": "P=20\n",
    })

    def one(*args: str) -> tuple[str, int]:
        services = compose.model(tmp_path, *args)["services"]
        port = next(p for name, ports in services.items() if name != "first" for p in ports)
        return port["published"], port["target"]

    # sub/ is the project directory: paths resolve in sub/.
    assert one("-f", "sub/x.yml") == ("1", 1)
    assert one("-f", "sub/main.yml") == ("10", 1)
    # The root is the project directory: the same files resolve at the root.
    assert one("--project-directory", ".", "-f", "sub/x.yml") == ("2", 2)
    assert one("--project-directory", ".", "-f", "sub/main.yml") == ("20", 2)
    assert one("-f", "a.yml", "-f", "sub/x.yml") == ("2", 2)
    assert one("-f", "a.yml", "-f", "sub/main.yml") == ("20", 2)


def test_dedup_winner_depends_on_spelling(compose: Compose, tmp_path: Path) -> None:
    """Before canonicalization a string entry is keyed by its raw text, so an
    override's "8080:80" converted after a matching mapping replaces it."""
    base = 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n'
    long = "      - {target: 80, published: \"8080\", name: http}\n"
    write(tmp_path, {"compose.yaml": base, "compose.override.yaml": "services:\n  web:\n    ports:\n" + long})
    assert [p.get("name") for p in compose.model(tmp_path)["services"]["web"]] == ["http"]
    write(tmp_path, {"compose.override.yaml": 'services:\n  web:\n    ports:\n      - "8080:80"\n' + long})
    assert [p.get("name") for p in compose.model(tmp_path)["services"]["web"]] == [None]
    write(tmp_path, {"compose.override.yaml": 'services:\n  web:\n    ports:\n' + long + '      - "8080:80"\n'})
    assert [p.get("name") for p in compose.model(tmp_path)["services"]["web"]] == [None]


def test_empty_files(compose: Compose, tmp_path: Path) -> None:
    write(tmp_path, {"a.yml": "services: {}\n", "b.yml": "", "c.yml": "x-only: 1\n"})
    assert compose.model(tmp_path, "-f", "a.yml")["services"] == {}
    run = compose.run(tmp_path, "-f", "b.yml")
    assert not run.ok and "empty compose file" in run.stderr
    assert compose.model(tmp_path, "-f", "c.yml")["services"] == {}


@pytest.mark.parametrize(
    ("spec", "published", "error"),
    [
        ("80:", None, "invalid proto: "),  # v0.7: no port specified: 80:<empty>
        ("+80:80", None, "invalid hostPort: +80"),  # v0.7 accepts the sign
        ("80-90-100:80", "80-90", None),  # v0.7: invalid hostPort: 80-90-100
    ],
)
def test_port_parser_is_go_connections_v0_6(
    compose: Compose, tmp_path: Path, spec: str, published: str | None, error: str | None
) -> None:
    """The v2.40.3 binary's build info lists go-connections v0.6.0, and it
    parses short syntax as v0.6 does (not v0.7, which docs/compat-ports.md
    and port_spec follow)."""
    write(tmp_path, {"compose.yaml": f'services:\n  w:\n    image: x\n    ports: ["{spec}"]\n'})
    run = compose.run(tmp_path)
    if error is None:
        assert run.ok, run.describe()
        assert [p["published"] for p in h.compose_model(run)["services"]["w"]] == [published]
    else:
        assert not run.ok and run.stderr.rstrip("\n").endswith(error), run.describe()
