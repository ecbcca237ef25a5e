"""port-convention: declare a team's host-port convention once (``ports.yaml``)
and enforce it across docker-compose files, ``.env`` files and programs.

Every function returns plain Python values (dicts, lists, ints, strings)
whose keys are the JSON field names of the CLI's ``--format json`` and of the
Node binding; every failure raises :class:`PortConventionError`, a
``ValueError`` with a stable ``code``.

>>> import port_convention
>>> ports = port_convention.load_ports("ports.yaml")  # doctest: +SKIP
>>> ports["services"]["timescaledb"]["postgres"]  # doctest: +SKIP
7000
"""

from ._types import (
    Address,
    ConventionInfo,
    Dotenv,
    DotenvEntry,
    DuplicateKey,
    Fallback,
    Finding,
    Interpolated,
    LoadedPorts,
    Location,
    PortMapping,
    ProjectRef,
    Related,
    Report,
    RuleInfo,
    Span,
    Suggestion,
    Summary,
    VariableUse,
)
from .port_convention import (
    ERROR_CODES,
    RULES,
    PortConventionError,
    __version__,
    allocate,
    check,
    interpolate,
    load_ports,
    parse_dotenv,
    parse_port_spec,
    validate_convention,
)

__all__ = [
    "ERROR_CODES",
    "RULES",
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
    "PortConventionError",
    "PortMapping",
    "ProjectRef",
    "Related",
    "Report",
    "RuleInfo",
    "Span",
    "Suggestion",
    "Summary",
    "VariableUse",
    "__version__",
    "allocate",
    "check",
    "interpolate",
    "load_ports",
    "parse_dotenv",
    "parse_port_spec",
    "validate_convention",
]
