//! port-convention: declare a team's host-port convention once (`ports.yaml`)
//! and enforce it across docker-compose files, `.env` files and live sockets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adopt;
mod allocate;
pub mod check;
pub mod compose;
mod convention;
pub mod dotenv;
mod env_ports;
mod error;
mod finding;
mod git_index;
pub mod interpolation;
pub mod io;
pub mod live;
pub mod migrate;
mod model;
pub mod port_spec;
pub mod project;
mod reason;
pub mod render;
pub mod report;
pub mod source;
mod validate;
mod yaml;
mod yaml_subset;

pub use allocate::{
    Allocation, PublishedIndex, Skip, Skipped, allocate, allocate_explained, allocate_replica,
    allocate_with,
};
pub use convention::{
    AlternativeGroup, BindPolicy, Convention, DEFAULT_SKIP_DIRS, DEFAULT_SOURCE_EXCLUDE, Discovery,
    HostDef, PortAssignment, ProjectDecl, RangeDef, ServiceDef, SourceKind, SourceSettings,
    TOOL_VERSION, convention_schema,
};
pub use env_ports::{Address, ConventionInfo, LoadedPorts, Network, parse_env_port, resolve_ports};
pub use error::{Error, Location};
pub use finding::{Finding, RULES_DOC_URL, Related, Rule, RuleDoc, Severity, Subject, Suggestion};
pub use model::{HostIp, Mode, PortMapping, PortRange, Protocol, Published};
pub use reason::{
    BackupProblem, DotenvReason, MigrationIdProblem, PathProblem, PlanProblem, PortRangeReason,
    PortSpecReason, TemplateReason,
};
pub use validate::{EPHEMERAL_PORTS, validate_convention};
