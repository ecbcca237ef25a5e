"""The Python API: shapes, defaults, argument types and the error shape."""

from __future__ import annotations

import inspect
import os
import pickle
from pathlib import Path

import pytest

import port_convention as pc
from conftest import EXAMPLE, REPO

CONVENTION = """\
version: 1.0.0
name: demo
ranges:
  db:
    ports: 7000-7999
    protected: true
    ranges:
      primary: { ports: 7000-7099 }
      spare: { ports: 7300-7999, reserved: true }
services:
  pg:
    range: primary
    ports:
      sql: { port: 7000, env: PG_PORT, container: 5432 }
  cache:
    range: primary
    ports:
      redis: { port: 7030, env: CACHE_PORT }
      metrics: { port: 7031 }
"""


@pytest.fixture
def convention(tmp_path: Path) -> Path:
    path = tmp_path / "ports.yaml"
    path.write_text(CONVENTION, encoding="utf-8")
    return path


# --- module ----------------------------------------------------------------


def test_module_exports_and_docs() -> None:
    assert pc.__version__ == "0.1.0"
    for name in pc.__all__:
        assert hasattr(pc, name), name
    for function in (
        pc.load_ports,
        pc.parse_port_spec,
        pc.interpolate,
        pc.parse_dotenv,
        pc.validate_convention,
        pc.allocate,
        pc.check,
    ):
        assert function.__doc__ and len(function.__doc__) > 80, function
        assert function.__module__.startswith("port_convention")
    assert (
        str(inspect.signature(pc.load_ports))
        == "(convention=None, env=None, env_files=None, cwd=None, network=None)"
    )
    assert str(inspect.signature(pc.check)) == "(root=None, convention=None, env_files=None, env=None)"
    assert str(inspect.signature(pc.allocate)) == "(range, convention=None, count=1)"
    assert len(pc.ERROR_CODES) == len(set(pc.ERROR_CODES)) >= 16
    assert "validation-failed" in pc.ERROR_CODES


def test_typing_files_are_shipped() -> None:
    package = Path(pc.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "port_convention.pyi").is_file()


# --- load_ports --------------------------------------------------------------


def test_load_ports_shape(convention: Path) -> None:
    assert pc.load_ports(convention, env={}, network="host") == {
        "convention": {"name": "demo", "version": "1.0.0"},
        "ports": {"PG_PORT": 7000, "CACHE_PORT": 7030},
        "services": {"pg": {"sql": 7000}, "cache": {"redis": 7030, "metrics": 7031}},
        "network": "host",
        "addresses": {
            "pg": {"sql": {"host": "localhost", "port": 7000}},
            "cache": {
                "redis": {"host": "localhost", "port": 7030},
                "metrics": {"host": "localhost", "port": 7031},
            },
        },
    }


def test_load_ports_addresses_inside_the_compose_network(convention: Path) -> None:
    inside = pc.load_ports(convention, env={"PG_PORT": "7005"}, network="compose")
    assert inside["network"] == "compose"
    # The service name and the container port; a port without `container`
    # has no address inside the network.
    assert inside["addresses"] == {"pg": {"sql": {"host": "pg", "port": 5432}}}
    # The host side follows the override.
    host = pc.load_ports(convention, env={"PG_PORT": "7005"}, network="host")
    assert host["addresses"]["pg"]["sql"] == {"host": "localhost", "port": 7005}
    # Chosen by PORT_CONVENTION_NETWORK when not given.
    chosen = pc.load_ports(convention, env={"PORT_CONVENTION_NETWORK": "compose"})
    assert chosen["network"] == "compose"
    with pytest.raises(pc.PortConventionError) as err:
        pc.load_ports(convention, env={}, network="lan")
    assert err.value.code == "invalid-argument"


def test_load_ports_accepts_str_and_pathlike(convention: Path) -> None:
    assert pc.load_ports(str(convention), env={}) == pc.load_ports(convention, env={})


def test_load_ports_env_overrides(convention: Path) -> None:
    loaded = pc.load_ports(convention, env={"PG_PORT": "7005", "UNRELATED": "x"})
    assert loaded["ports"]["PG_PORT"] == 7005
    assert loaded["services"]["pg"]["sql"] == 7005
    # An empty value counts as unset, as ${VAR:-default} does.
    assert pc.load_ports(convention, env={"PG_PORT": ""})["ports"]["PG_PORT"] == 7000


def test_load_ports_defaults_to_os_environ(convention: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_PORT", "7006")
    assert pc.load_ports(convention)["ports"]["PG_PORT"] == 7006
    monkeypatch.setenv("PG_PORT", "abc")
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(convention)
    assert [f["rule"] for f in info.value.findings] == ["invalid-env-port"]


def test_load_ports_finds_the_convention_upward(
    convention: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = convention.parent / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert pc.load_ports(env={})["convention"]["name"] == "demo"


def test_load_ports_cwd(convention: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = convention.parent / "deep"
    nested.mkdir()
    elsewhere = tmp_path.parent
    monkeypatch.chdir(elsewhere)
    assert pc.load_ports(env={}, cwd=nested)["convention"]["name"] == "demo"
    assert pc.load_ports(env={}, cwd=str(nested))["ports"]["PG_PORT"] == 7000


def test_load_ports_without_convention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(env={})
    assert info.value.code == "convention-not-found"


def test_load_ports_env_files_in_order(convention: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.env"
    first.write_text("PG_PORT=7001\nCACHE_PORT=7032\n", encoding="utf-8")
    second = tmp_path / "second.env"
    second.write_text("PG_PORT=7002\n", encoding="utf-8")
    loaded = pc.load_ports(convention, env={}, env_files=[first, str(second)])
    assert loaded["ports"] == {"PG_PORT": 7002, "CACHE_PORT": 7032}
    # The environment wins over every file.
    loaded = pc.load_ports(convention, env={"PG_PORT": "7003"}, env_files=[first, second])
    assert loaded["ports"]["PG_PORT"] == 7003


def test_load_ports_env_file_errors(convention: Path, tmp_path: Path) -> None:
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(convention, env={}, env_files=[tmp_path / "missing.env"])
    assert info.value.code == "io"
    bad = tmp_path / "bad.env"
    bad.write_text("A=1\nB='open\n", encoding="utf-8")
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(convention, env={}, env_files=[bad])
    assert info.value.code == "dotenv-syntax"
    assert info.value.location == {"file": str(bad), "line": 2, "column": 3}


def test_load_ports_reports_every_problem_at_once(convention: Path) -> None:
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(convention, env={"PG_PORT": "07000", "CACHE_PORT": "7350"})
    error = info.value
    assert error.code == "validation-failed"
    # In the convention's order, each port's problems in the core's order.
    assert [(f["rule"], f["variable"]) for f in error.findings] == [
        ("invalid-env-port", "PG_PORT"),
        ("env-port-out-of-range", "CACHE_PORT"),
        ("env-port-in-reserved-range", "CACHE_PORT"),
    ]
    assert str(error).startswith("3 problem(s) with port values:")
    for finding in error.findings:
        assert finding["severity"] == "error"
        assert finding["message"] in str(error)


def test_load_ports_argument_types(convention: Path) -> None:
    with pytest.raises(TypeError):
        pc.load_ports(convention, env={"PG_PORT": 7000})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        pc.load_ports(convention, env=["PG_PORT=7000"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pc.load_ports(convention, env={}, env_files="a.env")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pc.load_ports(42)  # type: ignore[arg-type]


def test_env_may_be_any_mapping(convention: Path) -> None:
    from collections import ChainMap
    from types import MappingProxyType

    assert pc.load_ports(convention, env=MappingProxyType({"PG_PORT": "7007"}))["ports"]["PG_PORT"] == 7007
    assert pc.load_ports(convention, env=ChainMap({"PG_PORT": "7008"}, {}))["ports"]["PG_PORT"] == 7008
    assert pc.load_ports(convention, env=os.environ.copy() | {"PG_PORT": "7009"})["ports"]["PG_PORT"] == 7009


# --- the error shape ---------------------------------------------------------


def test_error_is_a_value_error_with_code_findings_location(tmp_path: Path) -> None:
    assert issubclass(pc.PortConventionError, ValueError)
    with pytest.raises(ValueError) as info:
        pc.validate_convention(tmp_path / "missing.yaml")
    error = info.value
    assert isinstance(error, pc.PortConventionError)
    assert error.code == "io"
    assert error.findings == []
    assert error.location is None
    assert str(tmp_path / "missing.yaml") in str(error)
    assert error.args == (str(error),)


def test_error_location_of_yaml_errors() -> None:
    with pytest.raises(pc.PortConventionError) as info:
        pc.validate_convention("version: 1.0.0\nranges: [\n")
    assert info.value.code == "yaml-syntax"
    assert info.value.location is not None
    assert info.value.location["file"] == "<text>"
    assert info.value.location["line"] == 2
    assert str(info.value).startswith("<text>:2")


def test_error_survives_pickling(convention: Path) -> None:
    with pytest.raises(pc.PortConventionError) as info:
        pc.load_ports(convention, env={"PG_PORT": "80"})
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is pc.PortConventionError
    assert (again.code, again.findings, str(again)) == (
        info.value.code,
        info.value.findings,
        str(info.value),
    )


def test_every_error_has_a_known_code(convention: Path) -> None:
    failing = [
        lambda: pc.parse_port_spec("x:80"),
        lambda: pc.interpolate("${", {}),
        lambda: pc.interpolate("${A:?need A}", {}),
        lambda: pc.parse_dotenv("a b=1"),
        lambda: pc.allocate("nope", convention),
        lambda: pc.allocate("primary", convention, count=0),
        lambda: pc.check(convention.parent / "missing"),
        lambda: pc.validate_convention("version: 1.0.0\nbogus: 1\n"),
    ]
    for call in failing:
        with pytest.raises(pc.PortConventionError) as info:
            call()
        assert info.value.code in pc.ERROR_CODES, info.value.code


# --- parse_port_spec -----------------------------------------------------------


def test_parse_port_spec_shapes() -> None:
    assert pc.parse_port_spec("127.0.0.1:7000:5432/udp") == [
        {"host_ip": "127.0.0.1", "published": "7000", "target": 5432, "protocol": "udp", "mode": "ingress"}
    ]
    assert pc.parse_port_spec(80) == [
        {"host_ip": "", "published": "", "target": 80, "protocol": "tcp", "mode": "ingress"}
    ]
    assert pc.parse_port_spec({"target": 80, "published": "8000-8010", "mode": "host", "name": "web"}) == [
        {"host_ip": "", "published": "8000-8010", "target": 80, "protocol": "tcp", "mode": "host", "name": "web"}
    ]
    assert [m["target"] for m in pc.parse_port_spec("98-100:98-100")] == [100, 98, 99]
    # Any mapping is a long-syntax entry.
    from types import MappingProxyType

    assert pc.parse_port_spec(MappingProxyType({"target": 80})) == pc.parse_port_spec({"target": 80})


def test_parse_port_spec_interpolates() -> None:
    assert pc.parse_port_spec("${PG_PORT:-7000}:5432")[0]["published"] == "7000"
    assert pc.parse_port_spec("${PG_PORT:-7000}:5432", env={"PG_PORT": "7001"})[0]["published"] == "7001"
    long = {"target": "${T}", "published": "${P:-7002}", "x-note": {"a": "$$"}}
    assert pc.parse_port_spec(long, env={"T": "5432"})[0]["target"] == 5432
    with pytest.raises(pc.PortConventionError) as info:
        pc.parse_port_spec("${PG_PORT:?set PG_PORT}:5432")
    assert info.value.code == "required-variable"
    assert "set PG_PORT" in str(info.value)


def test_parse_port_spec_rejections() -> None:
    for bad, reason in [
        (1.5, "invalid type float64 for port"),
        (True, "must be a number, string or mapping"),
        (None, "must be a number, string or mapping"),
        ([80], "must be a number, string or mapping"),
        ({"target": 80, "foo": 1}, "foo"),
        (0, "missing a target port"),
        (70000, "70000"),
    ]:
        with pytest.raises(pc.PortConventionError) as info:
            pc.parse_port_spec(bad)  # type: ignore[arg-type]
        assert info.value.code == "invalid-port-spec", bad
        assert reason in str(info.value), (bad, str(info.value))
    with pytest.raises(pc.PortConventionError) as info:
        pc.parse_port_spec(10**30)
    assert info.value.code in {"invalid-port-spec", "invalid-argument"}
    with pytest.raises(pc.PortConventionError) as info:
        pc.parse_port_spec({"target": float("nan")})
    assert info.value.code == "invalid-argument"
    with pytest.raises(TypeError):
        pc.parse_port_spec(b"80")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        pc.parse_port_spec({1: 80})  # type: ignore[dict-item]


# --- interpolate / parse_dotenv ----------------------------------------------


def test_interpolate_shape() -> None:
    out = pc.interpolate("${PG_PORT:-5432}:5432 and $REDIS", {"REDIS": "6379"})
    assert out["value"] == "5432:5432 and 6379"
    pg, redis = out["uses"]
    assert pg == {
        "name": "PG_PORT",
        "operator": "default-if-unset-or-empty",
        "span": {"start": 0, "end": 16},
        "default": {"text": "5432", "span": {"start": 11, "end": 15}},
        "value": None,
        "default_taken": True,
    }
    assert redis["operator"] == "plain" and redis["value"] == "6379" and redis["default"] is None


def test_parse_dotenv_shape() -> None:
    parsed = pc.parse_dotenv("# c\nexport A=1 # one\nB=\"x${A}\"\nA=2\nC\n", env={"C": "from-env"})
    assert parsed["values"] == {"A": "2", "B": "x1", "C": "from-env"}
    assert [(e["key"], e["line"], e["quote"], e["inherited"]) for e in parsed["entries"]] == [
        ("A", 2, "none", False),
        ("B", 3, "double", False),
        ("A", 4, "none", False),
        ("C", 5, "none", True),
    ]
    assert parsed["entries"][0]["column"] == 10
    assert parsed["duplicates"] == [{"key": "A", "first_line": 2, "second_line": 4}]
    # Without env, a bare key is not an entry.
    assert pc.parse_dotenv("C\n") == {"values": {}, "entries": [], "duplicates": []}


# --- validate_convention / allocate / check -------------------------------------


def test_validate_convention_path_or_text(convention: Path) -> None:
    assert pc.validate_convention(convention) == []
    assert pc.validate_convention(str(convention)) == []
    assert pc.validate_convention(CONVENTION) == []
    findings = pc.validate_convention(CONVENTION.replace("port: 7030", "port: 7000"))
    assert [f["rule"] for f in findings] == ["duplicate-assignment"]
    assert findings[0]["severity"] == "error"
    assert findings[0]["file"] == "<text>"
    assert isinstance(findings[0]["line"], int)


def test_allocate(convention: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pc.allocate("primary", convention) == [7001]
    assert pc.allocate("primary", str(convention), count=3) == [7001, 7002, 7003]
    monkeypatch.chdir(convention.parent)
    assert pc.allocate("primary", count=2) == [7001, 7002]
    for count in (0, -1):
        with pytest.raises(pc.PortConventionError) as info:
            pc.allocate("primary", convention, count=count)
        assert info.value.code == "invalid-argument"
    with pytest.raises(pc.PortConventionError) as info:
        pc.allocate("primary", convention, count=1000)
    assert info.value.code == "range-full"
    with pytest.raises(pc.PortConventionError) as info:
        pc.allocate("nope", convention)
    assert info.value.code == "unknown-range"
    assert "primary" in str(info.value)


def test_check_clean_tree(convention: Path) -> None:
    (convention.parent / "compose.yaml").write_text(
        "services:\n  pg:\n    image: postgres\n    ports: ['127.0.0.1:${PG_PORT:-7000}:5432']\n",
        encoding="utf-8",
    )
    report = pc.check(convention.parent, env_files=[])
    assert report["version"] == 2
    assert set(report["summary"]) == {"files", "services", "mappings", "projects", "errors", "warnings"}
    assert report["summary"]["projects"] == 1
    assert [p["kind"] for p in report["projects"]] == ["default"]
    assert report["summary"]["errors"] == 0, report["findings"]
    assert report["summary"]["mappings"] == 1


def test_check_reports_findings(convention: Path) -> None:
    (convention.parent / "compose.yaml").write_text(
        "services:\n  pg:\n    image: postgres\n    ports: ['127.0.0.1:7050:5432']\n"
        "  web:\n    image: nginx\n    ports: ['7000:80']\n",
        encoding="utf-8",
    )
    report = pc.check(convention.parent, convention=convention)
    rules = {f["rule"] for f in report["findings"]}
    assert "drift" in rules and "protected-range-violation" in rules, report["findings"]
    assert report["summary"]["errors"] == sum(f["severity"] == "error" for f in report["findings"])
    assert all(f["file"] == "compose.yaml" for f in report["findings"] if "file" in f)


def test_check_reports_ports_hardcoded_in_source() -> None:
    report = pc.check(REPO / "tests" / "source" / "app", env={})
    stale = [f for f in report["findings"] if f["rule"] == "stale-port" and f["file"] == "backend/config.js"]
    first = stale[0]
    assert (first["line"], first["column"], first["port"]) == (4, 48, 5433)
    assert (first["variable"], first["suggestion"]["port"]) == ("TIMESCALEDB_PORT", 7000)
    # `ignore[hardcoded-port]` on db.ts:3 and `ignore[hardcode-port, *]` on db.ts:5,
    # whose misspelt id is reported.
    assert report["summary"]["suppressed"] == 2
    unknown = [f for f in report["findings"] if f["rule"] == "unknown-suppression"]
    assert [(f["file"], f["line"]) for f in unknown] == [("backend/db.ts", 5)]
    assert report["summary"]["source_files"] == 16
    # A service name and its container port, inside the compose network: right.
    assert not [f for f in report["findings"] if f.get("file") == "worker/settings.py" and f["line"] in (6, 7)]
    assert not [f for f in report["findings"] if f.get("file", "").startswith("traps/")]


def test_check_env_and_default_root(convention: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (convention.parent / "compose.yaml").write_text(
        "services:\n  pg:\n    image: postgres\n    ports: ['127.0.0.1:${PG_PORT:-7000}:5432']\n",
        encoding="utf-8",
    )
    assert pc.check(convention.parent, env={})["summary"]["errors"] == 0
    drifted = pc.check(convention.parent, env={"PG_PORT": "7010"})
    assert [f["rule"] for f in drifted["findings"]] == ["drift"], drifted["findings"]
    monkeypatch.setenv("PG_PORT", "7010")
    assert pc.check(convention.parent)["findings"] == drifted["findings"]
    # Without root: the directory of the convention found upward.
    monkeypatch.chdir(convention.parent)
    assert pc.check(env={}) == pc.check(convention.parent, env={})


def test_check_example_matches_its_findings() -> None:
    report = pc.check(EXAMPLE)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert report["summary"]["errors"] == len(errors)
    assert report["summary"]["warnings"] == len(report["findings"]) - len(errors)
    assert report["summary"]["files"] >= 1


def test_rules_lists_every_rule() -> None:
    assert isinstance(pc.RULES, tuple)
    ids = [rule["id"] for rule in pc.RULES]
    assert len(ids) == len(set(ids)) >= 30
    for rule in pc.RULES:
        assert set(rule) == {"id", "severity", "subject", "summary"}, rule
        assert rule["severity"] in ("error", "warning")
        assert rule["subject"] in ("convention", "compose", "env-file", "environment", "live", "source")
        assert rule["summary"].endswith(".")
    by_id = {rule["id"]: rule for rule in pc.RULES}
    assert by_id["env-port-out-of-range"] == {
        "id": "env-port-out-of-range",
        "severity": "error",
        "subject": "environment",
        "summary": "An environment value moves a port outside its service's range.",
    }
    # Every rule load_ports reports is listed.
    assert {"invalid-env-port", "env-port-in-reserved-range", "env-port-duplicate-assignment"} <= set(by_id)
