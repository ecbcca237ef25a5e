"""Shared helpers of the port_convention tests: where the repository is, and
the language-neutral vectors of tests/vectors (also read by the Rust and Node
tests)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors"
EXAMPLE = REPO / "examples" / "trading-system"


def load_vectors(name: str) -> dict[str, Any]:
    """The parsed vector file `name` (retried briefly: the files are edited
    by hand and may be caught mid-write)."""
    path = VECTORS / name
    for attempt in range(5):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            if attempt == 4:
                raise
            time.sleep(2)
    raise AssertionError("unreachable")


def cases(name: str) -> list[Any]:
    """Every case of a vector file as a pytest parameter, id'd by its name."""
    return [
        pytest.param(case, id=case.get("name", f"#{index}"))
        for index, case in enumerate(load_vectors(name)["cases"])
    ]


def matches(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    """Whether every field of `expected` equals the same field of `actual`
    (a missing field counts as None, as serde_json's Index does)."""
    return all(actual.get(key) == value for key, value in expected.items())
