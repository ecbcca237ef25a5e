"""`port-convention mcp` driven by a real MCP client: the official Python SDK
(`mcp` on PyPI, pinned in port-convention-py/requirements-dev.txt) starts the
server as a subprocess over stdio, lists its tools and resources, calls every
tool on the bundled example (examples/trading-system) and compares each
answer with the CLI's JSON for the same question, run in the same directory.

Both ways a client connects are exercised: `server/discover` (protocol
2026-07-28, the SDK's default "auto") and the `initialize` handshake of the
earlier revisions ("legacy", what most assistants speak today).

Run by scripts/test-python.sh. Without the SDK the tests print SKIPPED, and
fail under CI=true.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

try:
    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.shared.exceptions import MCPError
except ImportError as err:  # pragma: no cover - depends on the venv
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"the MCP Python SDK is missing under CI: {err}") from err
    pytest.skip(f"SKIPPED: the MCP Python SDK (`mcp`) is not installed: {err}", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "trading-system"
TOOLS = ["check", "scan", "explain_rule", "allocate", "plan_migration", "validate_convention"]
MODES = ["auto", "legacy"]


@pytest.fixture(scope="session")
def cli_bin() -> Path:
    override = os.environ.get("PORT_CONVENTION_BIN")
    if override:
        path = Path(override)
        assert path.is_file(), f"PORT_CONVENTION_BIN={override} does not exist"
        return path
    # Always built: a stale binary would test yesterday's server.
    subprocess.run(["cargo", "build", "-q", "--locked", "-p", "port-convention-cli"], cwd=REPO, check=True)
    # scripts/test.sh builds for an explicit target (CARGO_BUILD_TARGET, shared
    # with napi, which always passes --target): its binaries live under it.
    target = os.environ.get("CARGO_BUILD_TARGET")
    base = REPO / "target" / target if target else REPO / "target"
    path = base / "debug" / ("port-convention.exe" if os.name == "nt" else "port-convention")
    assert path.is_file(), f"cargo build did not produce {path}"
    return path


def cli(binary: Path, cwd: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(binary), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert run.returncode in ok, f"port-convention {' '.join(args)} exited {run.returncode}: {run.stderr}"
    return run


def cli_json(binary: Path, cwd: Path, *args: str, ok: tuple[int, ...] = (0,)) -> Any:
    return json.loads(cli(binary, cwd, *args, ok=ok).stdout)


Session = Callable[[Callable[[Client], Awaitable[Any]]], Any]


def session(binary: Path, cwd: Path, mode: str, *server_args: str) -> Session:
    """Runs `body(client)` against a fresh `port-convention mcp` started in `cwd`."""

    def run(body: Callable[[Client], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            params = StdioServerParameters(command=str(binary), args=["mcp", *server_args], cwd=str(cwd))
            with anyio.fail_after(120):
                async with Client(params, mode=mode) as client:
                    return await body(client)

        return anyio.run(main)

    return run


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root with the SHA-256 of its bytes (links by target)."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            out[rel] = "dir"
    return out


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """Whether the call failed, and its JSON answer. The answer is the
    structured content; the text content carries the same JSON. Before
    protocol 2026-07-28 structured content must be an object, so an array
    (every rule's documentation) reaches a client of an older revision as
    the text alone."""
    result = await client.call_tool(tool, arguments)
    text = json.loads(result.content[0].text)
    if result.structured_content is None:
        assert isinstance(text, list), (tool, text)
        assert client.protocol_version < "2026-07-28", (tool, client.protocol_version)
        return bool(result.is_error), text
    assert text == result.structured_content, tool
    return bool(result.is_error), result.structured_content


@pytest.mark.parametrize("mode", MODES)
def test_lists_every_tool_with_an_input_schema_and_read_only(cli_bin: Path, mode: str) -> None:
    async def body(client: Client) -> Any:
        return client.protocol_version, client.server_info, (await client.list_tools()).tools

    version, info, tools = session(cli_bin, REPO, mode)(body)
    # auto: server/discover at the newest revision; legacy: the initialize handshake.
    assert version == ("2026-07-28" if mode == "auto" else "2025-11-25")
    assert info is not None and info.name == "port-convention"
    assert [t.name for t in tools] == TOOLS
    for tool in tools:
        assert tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
        assert tool.annotations.destructive_hint is False, tool.name
    allocate = next(t for t in tools if t.name == "allocate")
    assert allocate.input_schema["required"] == ["range"]
    assert set(allocate.input_schema["properties"]) == {"range", "path", "count", "convention", "live"}


@pytest.mark.parametrize("mode", MODES)
def test_every_tool_answers_what_the_cli_answers(cli_bin: Path, mode: str) -> None:
    """Server in the repository root; the tools are given the example's path."""
    before = tree_digest(EXAMPLE)
    path = "examples/trading-system"
    convention = f"{path}/ports.yaml"

    async def body(client: Client) -> dict[str, tuple[bool, Any]]:
        return {
            "check": await call(client, "check", {"path": path}),
            "check_convention": await call(client, "check", {"path": path, "convention": convention}),
            "scan": await call(client, "scan", {"path": path}),
            "explain_rule": await call(client, "explain_rule", {"rule": "drift"}),
            "explain_all": await call(client, "explain_rule", {}),
            "allocate": await call(client, "allocate", {"range": "databases", "count": 3, "convention": convention}),
            "allocate_path": await call(client, "allocate", {"range": "databases", "path": path}),
            "plan_migration": await call(client, "plan_migration", {"path": path}),
            "plan_env_vars": await call(
                client, "plan_migration", {"path": path, "use_env_vars": True, "maps": ["5433=7000"]}
            ),
            "validate_convention": await call(client, "validate_convention", {"convention": convention}),
        }

    got = session(cli_bin, REPO, mode)(body)
    errors = {name: answer for name, (is_error, answer) in got.items() if is_error}
    assert not errors, errors

    def answer(name: str) -> Any:
        return got[name][1]

    check = cli_json(cli_bin, REPO, "check", path, "--format", "json", ok=(0, 1))
    assert check["findings"], "the example has deliberate problems"
    assert answer("check") == check
    assert answer("check_convention") == cli_json(
        cli_bin, REPO, "check", path, "-c", convention, "--format", "json", ok=(0, 1)
    )

    scan = cli_json(cli_bin, REPO, "scan", path, "--format", "json")
    assert scan["ports"] and answer("scan") == scan

    assert answer("explain_rule") == cli_json(cli_bin, REPO, "explain", "drift", "--format", "json")
    assert answer("explain_rule")["id"] == "drift"
    every_rule = cli_json(cli_bin, REPO, "explain", "--format", "json")
    assert answer("explain_all") == every_rule
    # The same rules, in the same order, as the text listing of `explain`.
    listed = [line.split()[0] for line in cli(cli_bin, REPO, "explain").stdout.splitlines()]
    assert [r["id"] for r in every_rule] == listed

    allocate = cli_json(cli_bin, REPO, "allocate", "databases", "--count", "3", "-c", convention, "--format", "json")
    assert answer("allocate") == allocate
    assert answer("allocate_path") == cli_json(cli_bin, REPO, "allocate", "databases", path, "--format", "json")
    lines = cli(cli_bin, REPO, "allocate", "databases", "--count", "3", "-c", convention).stdout.split()
    assert answer("allocate") == {"range": "databases", "ports": [int(p) for p in lines]}

    plan = cli_json(cli_bin, REPO, "migrate", "plan", path, "--format", "json", ok=(0, 1))
    assert plan["files"], "the example drifts: the plan has edits"
    assert answer("plan_migration")["plan"] == plan
    diff = answer("plan_migration")["diff"]
    assert diff.startswith("--- ") and "\n+" in diff
    human = cli(cli_bin, REPO, "migrate", "plan", path, "--color", "never", ok=(0, 1)).stdout
    assert diff in human
    assert answer("plan_env_vars")["plan"] == cli_json(
        cli_bin, REPO, "migrate", "plan", path, "--use-env-vars", "--map", "5433=7000", "--format", "json",
        ok=(0, 1),
    )
    assert answer("plan_env_vars")["plan"] != plan

    assert answer("validate_convention") == cli_json(
        cli_bin, REPO, "check", "--convention-only", "-c", convention, "--format", "json", ok=(0, 1)
    )

    # Nothing was written: not a byte of the example, no backup, no saved plan.
    assert tree_digest(EXAMPLE) == before


@pytest.mark.parametrize("mode", MODES)
def test_defaults_and_resources_under_root(cli_bin: Path, mode: str) -> None:
    """Server started elsewhere with --root on the example: tools without a
    path answer for the root, as the CLI run in it does; the convention is a
    resource."""

    async def body(client: Client) -> dict[str, Any]:
        resources = (await client.list_resources()).resources
        read = [await client.read_resource(r.uri) for r in resources]
        return {
            "resources": resources,
            "read": read,
            "check": await call(client, "check", {}),
            "dot": await call(client, "check", {"path": "."}),
            "scan": await call(client, "scan", {}),
            "allocate": await call(client, "allocate", {"range": "databases"}),
            "plan": await call(client, "plan_migration", {}),
            "validate": await call(client, "validate_convention", {}),
        }

    got = session(cli_bin, REPO / "tests", mode, "--root", str(EXAMPLE))(body)
    for name in ("check", "dot", "scan", "allocate", "plan", "validate"):
        assert got[name][0] is False, (name, got[name])
    assert got["check"][1] == cli_json(cli_bin, EXAMPLE, "check", "--format", "json", ok=(0, 1))
    assert got["dot"][1] == cli_json(cli_bin, EXAMPLE, "check", ".", "--format", "json", ok=(0, 1))
    assert got["scan"][1] == cli_json(cli_bin, EXAMPLE, "scan", "--format", "json")
    assert got["allocate"][1] == cli_json(cli_bin, EXAMPLE, "allocate", "databases", "--format", "json")
    assert got["plan"][1]["plan"] == cli_json(cli_bin, EXAMPLE, "migrate", "plan", "--format", "json", ok=(0, 1))
    assert got["validate"][1] == cli_json(
        cli_bin, EXAMPLE, "check", "--convention-only", "--format", "json", ok=(0, 1)
    )

    convention, markdown, svg = got["resources"]
    assert convention.name == "ports.yaml" and convention.mime_type == "application/yaml"
    assert str(convention.uri) == (EXAMPLE / "ports.yaml").resolve().as_uri()
    assert (markdown.name, markdown.mime_type) == ("PORTS-CONVENTION.md", "text/markdown")
    assert (svg.name, svg.mime_type) == ("PORTS-CONVENTION.svg", "image/svg+xml")
    # The document links its port map by a relative name, which resolves to the svg resource.
    assert str(svg.uri) == str(markdown.uri).rsplit("/", 1)[0] + "/PORTS-CONVENTION.svg"
    texts = [read.contents[0].text for read in got["read"]]
    assert texts[0] == (EXAMPLE / "ports.yaml").read_text()
    assert texts[1] == cli(cli_bin, EXAMPLE, "render", "markdown").stdout
    assert "](PORTS-CONVENTION.svg)" in texts[1]
    assert texts[2] == cli(cli_bin, EXAMPLE, "render", "svg").stdout
    assert [read.contents[0].mime_type for read in got["read"]] == [
        "application/yaml",
        "text/markdown",
        "image/svg+xml",
    ]


def cli_error(binary: Path, cwd: Path, *args: str) -> tuple[str, str]:
    """The code and message of a CLI error (`port-convention: error[CODE]: MESSAGE`, exit 2)."""
    run = cli(binary, cwd, *args, ok=(2,))
    head, _, message = run.stderr.strip().partition("]: ")
    return head.removeprefix("port-convention: error["), message


@pytest.mark.parametrize("mode", MODES)
def test_errors_are_coded_and_paths_outside_the_root_refused(cli_bin: Path, mode: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inside").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ports.yaml").write_text((EXAMPLE / "ports.yaml").read_text())
    (root / "ports.yaml").write_text((EXAMPLE / "ports.yaml").read_text())
    (root / "up").symlink_to(outside, target_is_directory=True)
    (root / "link.yaml").symlink_to(outside / "ports.yaml")
    before = tree_digest(tmp_path)

    async def body(client: Client) -> dict[str, tuple[bool, Any]]:
        calls = {
            "dot_dot": ("check", {"path": ".."}),
            "dot_dot_inside": ("scan", {"path": "inside/../../outside"}),
            "absolute": ("check", {"path": str(outside)}),
            "link_dir": ("scan", {"path": "up"}),
            "link_file": ("validate_convention", {"convention": "link.yaml"}),
            "convention_out": ("allocate", {"range": "databases", "convention": "../outside/ports.yaml"}),
            "plan_out": ("plan_migration", {"path": "up"}),
            "missing": ("check", {"path": "no-such-dir"}),
            "unknown_rule": ("explain_rule", {"rule": "no-such-rule"}),
            "unknown_range": ("allocate", {"range": "no-such-range"}),
            "bad_argument": ("check", {"paht": "."}),
            "bad_type": ("allocate", {"range": "databases", "count": "three"}),
            "bad_map": ("plan_migration", {"maps": ["5433"]}),
            "only_without_live": ("check", {"only": ["timescaledb"]}),
        }
        return {name: await call(client, tool, args) for name, (tool, args) in calls.items()}

    got = session(cli_bin, tmp_path, mode, "--root", str(root))(body)

    async def unknown(client: Client) -> tuple[str, str]:
        # Not a tool: a protocol error, as the spec's "Unknown tool" example.
        with pytest.raises(MCPError) as raised:
            await client.call_tool("apply_migration", {})
        # Only the listed resources can be read, not any file.
        with pytest.raises(MCPError) as not_listed:
            await client.read_resource((outside / "ports.yaml").as_uri())
        return raised.value.error.message, not_listed.value.error.message

    tool, resource = session(cli_bin, tmp_path, mode, "--root", str(root))(unknown)
    assert tool == "Unknown tool: apply_migration"
    assert resource.startswith("no resource file://")
    for name, (is_error, answer) in got.items():
        assert is_error is True, (name, answer)
        assert set(answer) == {"code", "message", "findings", "location"}, (name, answer)
    codes = {name: answer["code"] for name, (_, answer) in got.items()}
    assert codes == {
        "dot_dot": "unsafe-path",
        "dot_dot_inside": "unsafe-path",
        "absolute": "unsafe-path",
        "link_dir": "unsafe-path",
        "link_file": "unsafe-path",
        "convention_out": "unsafe-path",
        "plan_out": "unsafe-path",
        "missing": "io",
        "unknown_rule": "unknown-rule",
        "unknown_range": "unknown-range",
        "bad_argument": "invalid-argument",
        "bad_type": "invalid-argument",
        "bad_map": "invalid-argument",
        "only_without_live": "invalid-argument",
    }
    assert "outside the root" in got["dot_dot"][1]["message"]
    # The library's errors reach the client as the CLI reports them.
    assert cli_error(cli_bin, root, "explain", "no-such-rule") == ("unknown-rule", got["unknown_rule"][1]["message"])
    assert cli_error(cli_bin, root, "allocate", "no-such-range") == (
        "unknown-range",
        got["unknown_range"][1]["message"],
    )
    assert tree_digest(tmp_path) == before


def test_a_convention_found_above_the_root_is_refused(cli_bin: Path, tmp_path: Path) -> None:
    """The upward search for ports.yaml would leave the root: refused, not read."""
    (tmp_path / "ports.yaml").write_text((EXAMPLE / "ports.yaml").read_text())
    root = tmp_path / "sub"
    root.mkdir()

    async def body(client: Client) -> Any:
        return {
            "check": await call(client, "check", {}),
            "allocate": await call(client, "allocate", {"range": "databases"}),
            "resources": (await client.list_resources()).resources,
        }

    got = session(cli_bin, root, "auto")(body)
    assert got["check"][0] is True and got["check"][1]["code"] == "unsafe-path"
    assert got["allocate"][0] is True and got["allocate"][1]["code"] == "unsafe-path"
    assert got["resources"] == []


def test_live_check_answers_with_the_report_shape(cli_bin: Path) -> None:
    """`live` reads this machine (what holds which port changes from one
    moment to the next, so the answer is compared in shape, not in value)."""

    async def body(client: Client) -> Any:
        result = await client.call_tool("check", {"path": "examples/trading-system", "live": True})
        return result

    result = session(cli_bin, REPO, "auto")(body)
    assert not result.is_error, result.structured_content
    cli_report = cli_json(cli_bin, REPO, "check", "examples/trading-system", "--format", "json", ok=(0, 1))
    assert set(result.structured_content) == set(cli_report)
    assert result.structured_content["version"] == cli_report["version"]
