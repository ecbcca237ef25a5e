"""The shapes of the plain values port_convention returns, as ``TypedDict``s.

They describe the core's JSON (the same as the CLI's ``--format json`` and
the Node binding): at run time every value is a plain ``dict``/``list``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypeAlias, TypedDict

Severity: TypeAlias = Literal["error", "warning"]
Protocol: TypeAlias = Literal["tcp", "udp", "sctp"]


class Related(TypedDict):
    """Another place a finding involves (the other side of a clash, say)."""

    file: str
    line: int
    column: int
    service: NotRequired[str]
    project: NotRequired[str]


class Suggestion(TypedDict):
    """A concrete fix: a free port in the right range (and a host IP)."""

    port: int
    host_ip: NotRequired[str]


class Finding(TypedDict):
    """One problem, with its stable rule id, severity, place and fix.

    Only ``rule``, ``severity`` and ``message`` are always there.
    """

    rule: str
    severity: Severity
    message: str
    file: NotRequired[str]
    line: NotRequired[int]
    column: NotRequired[int]
    service: NotRequired[str]
    port: NotRequired[int]
    protocol: NotRequired[Protocol]
    host_ip: NotRequired[str]
    variable: NotRequired[str]
    value: NotRequired[str]
    related: NotRequired[list[Related]]
    suggestion: NotRequired[Suggestion]
    project: NotRequired[str]
    host: NotRequired[str]


class Location(TypedDict):
    """A place in a file: 1-based line and column (0 when unknown)."""

    file: str
    line: int
    column: int


class ConventionInfo(TypedDict):
    """Which convention a set of ports came from."""

    name: str | None
    version: str


class LoadedPorts(TypedDict):
    """What ``load_ports`` returns."""

    convention: ConventionInfo
    ports: dict[str, int]
    """Port by environment variable name."""
    services: dict[str, dict[str, int]]
    """Port by service name, then by port name."""
    network: Literal["host", "compose"]
    """Where the program runs, which decides ``addresses``."""
    addresses: dict[str, dict[str, Address]]
    """Where to connect, by service name, then by port name: ``localhost``
    and the host port on the host; the compose service name and the
    container port inside the compose network."""


class Address(TypedDict):
    """Where to connect to one port."""

    host: str
    port: int


class PortMapping(TypedDict):
    """One compose port mapping (compose-go's ``ServicePortConfig``)."""

    host_ip: str
    """The host address; ``""`` when none is given (all interfaces)."""
    published: str
    """``""`` (none), ``"8080"`` or ``"8000-8010"``."""
    target: int
    protocol: Protocol
    mode: str
    name: NotRequired[str]
    app_protocol: NotRequired[str]


class Span(TypedDict):
    """A range of UTF-8 byte offsets, ``start`` included, ``end`` excluded."""

    start: int
    end: int


class Fallback(TypedDict):
    """The text after an operator (default, alternative or error message)."""

    text: str
    span: Span


class VariableUse(TypedDict):
    """One variable reference met while interpolating."""

    name: str
    operator: Literal[
        "plain",
        "default-if-unset-or-empty",
        "default-if-unset",
        "required-non-empty",
        "required",
        "alt-if-set-non-empty",
        "alt-if-set",
    ]
    span: Span
    default: Fallback | None
    value: str | None
    default_taken: bool


class Interpolated(TypedDict):
    """What ``interpolate`` returns."""

    value: str
    uses: list[VariableUse]


class DotenvEntry(TypedDict):
    """One ``KEY=value`` statement of a ``.env`` file."""

    key: str
    value: str
    line: int
    column: int
    raw_value: Span
    quote: Literal["none", "single", "double"]
    inherited: bool


class DuplicateKey(TypedDict):
    """A key set more than once in the same file."""

    key: str
    first_line: int
    second_line: int


class Dotenv(TypedDict):
    """What ``parse_dotenv`` returns."""

    values: dict[str, str]
    entries: list[DotenvEntry]
    duplicates: list[DuplicateKey]


class Summary(TypedDict):
    """Counts over a check."""

    files: int
    services: int
    mappings: int
    projects: int
    errors: int
    warnings: int
    source_files: NotRequired[int]
    """Source and configuration files scanned for port literals (omitted when 0)."""
    suppressed: NotRequired[int]
    """Findings silenced by ``port-convention: ignore[rule]`` (omitted when 0)."""


class ProjectRef(TypedDict):
    """A compose project a finding may name (``Finding["project"]`` is its id)."""

    id: str
    name: str
    kind: Literal["default", "file", "declared"]
    files: list[str]
    profiles: list[str]
    hosts: list[str]


class Report(TypedDict):
    """What ``check`` returns: the CLI's JSON report, version 2."""

    version: int
    findings: list[Finding]
    summary: Summary
    projects: NotRequired[list[ProjectRef]]


class RuleInfo(TypedDict):
    """A rule of ``RULES``: its stable id, severity, subject and summary."""

    id: str
    severity: Severity
    subject: Literal["convention", "compose", "env-file", "environment", "live", "source"]
    summary: str


__all__ = [
    "Address",
    "ConventionInfo",
    "Dotenv",
    "DotenvEntry",
    "DuplicateKey",
    "Fallback",
    "Finding",
    "Interpolated",
    "LoadedPorts",
    "Location",
    "PortMapping",
    "ProjectRef",
    "Protocol",
    "Related",
    "Report",
    "RuleInfo",
    "Severity",
    "Span",
    "Suggestion",
    "Summary",
    "VariableUse",
]
