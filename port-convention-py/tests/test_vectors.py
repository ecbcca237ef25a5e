"""Every case of the shared vectors (tests/vectors/*.json) through the Python
binding, asserting what the Rust tests assert (port-convention/tests/*.rs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import port_convention as pc
from conftest import cases, load_vectors, matches

# --- port specs (port_spec_vectors.rs) --------------------------------------


def _literal(value: Any) -> Any:
    """The input as written for parse_port_spec, which interpolates strings:
    vector inputs are already interpolated, so `$` is escaped as `$$`."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item) for item in value]
    return value


def test_port_spec_vectors_are_well_formed() -> None:
    all_cases = load_vectors("port_specs.json")["cases"]
    assert len(all_cases) >= 80
    names = [case["name"] for case in all_cases]
    assert len(names) == len(set(names)), "duplicate case names"
    assert all(case.get("source") for case in all_cases)
    assert not [case["name"] for case in all_cases if "env" in case]


@pytest.mark.parametrize("case", cases("port_specs.json"))
def test_port_spec_vector(case: dict[str, Any]) -> None:
    spec = _literal(case["input"])
    expect = case["expect"]
    if "mappings" in expect:
        assert pc.parse_port_spec(spec) == expect["mappings"]
    else:
        with pytest.raises(pc.PortConventionError) as info:
            pc.parse_port_spec(spec)
        assert info.value.code == expect["error"]["code"], str(info.value)
        assert expect["error"]["message_contains"] in str(info.value)
        assert info.value.findings == []


# --- interpolation (interpolation_dotenv_vectors.rs) ------------------------


def _slices(text: str, span: pc.Span) -> bool:
    """Whether a byte span slices `text` on character boundaries."""
    data = text.encode("utf-8")
    start, end = span["start"], span["end"]
    if not 0 <= start <= end <= len(data):
        return False
    try:
        data[:start].decode("utf-8")
        data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_interpolation_vectors_are_well_formed() -> None:
    all_cases = load_vectors("interpolation.json")["cases"]
    assert len(all_cases) >= 40
    names = [case["name"] for case in all_cases]
    assert len(names) == len(set(names)), "duplicate case names"
    assert all(isinstance(case.get("source"), str) for case in all_cases)


@pytest.mark.parametrize("case", cases("interpolation.json"))
def test_interpolation_vector(case: dict[str, Any]) -> None:
    template = case["template"]
    env = case.get("env", {})
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(pc.PortConventionError) as info:
            pc.interpolate(template, env)
        assert info.value.code == expect["error"]["code"], str(info.value)
        if "message_contains" in expect["error"]:
            assert expect["error"]["message_contains"] in str(info.value)
        return
    out = pc.interpolate(template, env)
    assert out["value"] == expect["value"]
    assert [(u["name"], u["default_taken"]) for u in out["uses"]] == [
        (u["name"], u["default_taken"]) for u in expect["uses"]
    ]
    for use in out["uses"]:
        assert _slices(template, use["span"]), use


# --- dotenv (interpolation_dotenv_vectors.rs) -------------------------------


def test_dotenv_vectors_are_well_formed() -> None:
    all_cases = load_vectors("dotenv.json")["cases"]
    assert len(all_cases) >= 30
    names = [case["name"] for case in all_cases]
    assert len(names) == len(set(names)), "duplicate case names"
    assert all(isinstance(case.get("source"), str) for case in all_cases)


@pytest.mark.parametrize("case", cases("dotenv.json"))
def test_dotenv_vector(case: dict[str, Any]) -> None:
    text = case["text"]
    env = case.get("env", {})
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(pc.PortConventionError) as info:
            pc.parse_dotenv(text, env)
        error = info.value
        assert error.code == expect["error"]["code"], str(error)
        if "message_contains" in expect["error"]:
            assert expect["error"]["message_contains"] in str(error)
        line = error.location["line"] if error.location is not None else None
        assert line == expect["error"].get("line"), str(error)
        return
    parsed = pc.parse_dotenv(text, env)
    assert [(e["key"], e["value"], e["line"]) for e in parsed["entries"]] == [
        (e["key"], e["value"], e["line"]) for e in expect["entries"]
    ]
    assert [
        (d["key"], d["first_line"], d["second_line"]) for d in parsed["duplicates"]
    ] == [(d["key"], d["first_line"], d["second_line"]) for d in expect.get("duplicates", [])]
    data = text.encode("utf-8")
    for entry in parsed["entries"]:
        assert _slices(text, entry["raw_value"]), entry
        raw = data[entry["raw_value"]["start"] : entry["raw_value"]["end"]].decode("utf-8")
        if entry["quote"] == "none":
            # Rust's str::trim: Unicode White_Space, as Python's str.strip().
            assert raw.strip() == raw, f"raw value {raw!r} of {entry['key']} has blanks"
    # `values` is the last entry of each key.
    assert parsed["values"] == {e["key"]: e["value"] for e in parsed["entries"]}


# --- conventions (convention_vectors.rs) ------------------------------------


@pytest.mark.parametrize("case", cases("conventions.json"))
def test_convention_vector(case: dict[str, Any], tmp_path: Path) -> None:
    expect = case["expect"]
    # Once as YAML text, once as a file (str path and PathLike).
    path = tmp_path / "ports.yaml"
    path.write_text(case["convention"], encoding="utf-8")
    for given in (case["convention"], str(path), path):
        if "findings" in expect:
            findings = pc.validate_convention(given)
            assert len(findings) == len(expect["findings"]), findings
            for got, wanted in zip(findings, expect["findings"], strict=True):
                assert matches(got, wanted), (got, wanted)
        else:
            with pytest.raises(pc.PortConventionError) as info:
                pc.validate_convention(given)
            error = info.value
            line = error.location["line"] if error.location is not None else None
            assert matches({"code": error.code, "line": line}, expect["error"]), str(error)


# --- load_ports (convention_vectors.rs) -------------------------------------


@pytest.mark.parametrize("case", cases("load_ports.json"))
def test_load_ports_vector(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "ports.yaml"
    path.write_text(case["convention"], encoding="utf-8")
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(pc.PortConventionError) as info:
            pc.load_ports(path, env=case["env"])
        error = info.value
        assert error.code == expect["error"]["code"], str(error)
        wanted = expect["error"].get("findings", [])
        assert len(error.findings) == len(wanted), error.findings
        for got, want in zip(error.findings, wanted, strict=True):
            assert matches(got, want), (got, want)
        # The message lists every finding.
        for finding in error.findings:
            assert finding["message"] in str(error)
    else:
        loaded = pc.load_ports(path, env=case["env"])
        assert loaded["ports"] == expect["ports"]
        assert loaded["services"] == expect["services"]


# --- check on a tree (check_vectors.rs) -------------------------------------

CHECK_KEYS = ("rule", "severity", "file", "line", "column", "service", "port")


def _comparable(finding: dict[str, Any], root: Path) -> dict[str, Any]:
    """The fields the vectors compare; a file named by its full path (the
    convention, as found) relative to the case's directory."""
    out = {key: finding[key] for key in CHECK_KEYS if key in finding}
    file = out.get("file")
    if isinstance(file, str) and Path(file).is_absolute():
        try:
            out["file"] = Path(file).relative_to(root).as_posix()
        except ValueError:
            pass
    return out


def test_check_vectors_are_well_formed() -> None:
    all_cases = load_vectors("check.json")["cases"]
    assert len(all_cases) >= 10
    names = [case["name"] for case in all_cases]
    assert len(names) == len(set(names)), "duplicate case names"


@pytest.mark.parametrize("case", cases("check.json"))
def test_check_vector(case: dict[str, Any], tmp_path: Path) -> None:
    assert not any((parent / "ports.yaml").exists() for parent in tmp_path.parents), (
        "a ports.yaml above the case directory would leak into the vectors"
    )
    for name, text in case["files"].items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = pc.check(str(tmp_path), env=case["env"])
    got = [_comparable(f, tmp_path) for f in report["findings"]]
    assert got == case["expect"]["findings"]
    assert report["summary"]["errors"] == case["expect"]["errors"]
    assert report["summary"]["warnings"] == case["expect"]["warnings"]
