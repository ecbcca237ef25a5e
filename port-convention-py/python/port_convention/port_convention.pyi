"""Typing stubs of the native extension ``port_convention.port_convention``.

Every name here is re-exported by the ``port_convention`` package; import it
from there.
"""

import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._types import Dotenv, Finding, Interpolated, LoadedPorts, Location, PortMapping, Report, RuleInfo

_Path = str | os.PathLike[str]

__all__ = [
    "ERROR_CODES",
    "RULES",
    "PortConventionError",
    "__version__",
    "allocate",
    "check",
    "interpolate",
    "load_ports",
    "parse_dotenv",
    "parse_port_spec",
    "validate_convention",
]

__version__: Final[str]
ERROR_CODES: Final[tuple[str, ...]]
"""Every stable error code, as ``PortConventionError.code`` gives them."""
RULES: Final[tuple[RuleInfo, ...]]
"""Every rule a finding can name (``Finding["rule"]``), in the core's order;
``port-convention explain RULE`` prints the rest of a rule's documentation."""

class PortConventionError(ValueError):
    """An error of port-convention, with the same stable code as the CLI and
    the Node binding. ``except ValueError`` catches it too."""

    code: str
    """The stable kebab-case code, one of ``ERROR_CODES``."""
    findings: list[Finding]
    """Every problem when ``code`` is ``"validation-failed"``, else empty."""
    location: Location | None
    """Where in a file, when the error is tied to one (YAML and convention
    errors, ``.env`` errors), else ``None``."""

def load_ports(
    convention: _Path | None = None,
    env: Mapping[str, str] | None = None,
    env_files: Sequence[_Path] | None = None,
    cwd: _Path | None = None,
) -> LoadedPorts:
    """Loads the convention and returns its ports, with environment
    overrides, every value validated.

    ``convention`` defaults to ``ports.yaml`` in ``cwd`` (default: the
    working directory) or the nearest parent; ``env`` to ``os.environ``;
    ``env_files`` are read in order (a later file wins) and the environment
    wins over all of them.

    Raises ``PortConventionError`` (``validation-failed`` lists every problem
    in ``findings`` at once).
    """

def parse_port_spec(
    spec: str | int | Mapping[str, Any],
    env: Mapping[str, str] | None = None,
) -> list[PortMapping]:
    """Parses one compose ``ports:`` entry (short syntax string, int, or
    long-syntax dict) as Docker Compose does; strings are interpolated with
    ``env`` (default: no variable set) first.

    Raises ``PortConventionError`` (``invalid-port-spec``, ``invalid-template``,
    ``required-variable``).
    """

def interpolate(template: str, env: Mapping[str, str]) -> Interpolated:
    """Interpolates ``template`` as Docker Compose does; returns the value and
    every variable reference (spans are UTF-8 byte offsets).

    Raises ``PortConventionError`` (``invalid-template``, ``required-variable``).
    """

def parse_dotenv(text: str, env: Mapping[str, str] | None = None) -> Dotenv:
    """Parses the text of a ``.env`` file as Docker Compose does. ``env``
    (default: none set) answers keys written without ``=`` and wins over
    earlier keys of the file during interpolation.

    Raises ``PortConventionError`` (``dotenv-syntax``, ``invalid-template``,
    ``required-variable``, each with ``location``).
    """

def validate_convention(path_or_text: _Path) -> list[Finding]:
    """Validates a convention (a path, or YAML text) against its own rules;
    returns every finding, errors and warnings.

    Raises ``PortConventionError`` when the convention cannot be read or
    parsed (``io``, ``yaml-syntax``, ``invalid-convention``,
    ``tool-version-mismatch``).
    """

def allocate(range: str, convention: _Path | None = None, count: int = 1) -> list[int]:
    """The ``count`` lowest free ports of the range named ``range``.

    Raises ``PortConventionError`` (``unknown-range``, ``range-full``,
    ``invalid-argument``, or an error loading the convention).
    """

def check(
    root: _Path | None = None,
    convention: _Path | None = None,
    env_files: Sequence[_Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> Report:
    """Checks every compose and ``.env`` file under ``root`` (default: the
    convention's directory, else the working directory) against the
    convention and each other; returns the CLI's JSON report. Compose files
    are interpolated with ``env`` (default: ``os.environ``).

    Raises ``PortConventionError`` only when the check cannot run.
    """

def run_cli(argv: Sequence[str]) -> int:
    """Runs the ``port-convention`` command line (program name first) in this
    process and returns its exit code; the console script ``port-convention``
    calls it. Not part of the public API: run the command instead."""
