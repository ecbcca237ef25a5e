//! port-convention: declare a team's host-port convention once (`ports.yaml`)
//! and enforce it across docker-compose files, `.env` files and live sockets.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dotenv;
mod allocate;
pub mod check;
pub mod compose;
mod convention;
mod env_ports;
mod error;
pub mod interpolation;
pub mod io;
pub mod port_spec;
pub mod report;
mod finding;
pub mod migrate;
mod model;
mod validate;
mod yaml;

pub use error::{Error, Location};
pub use finding::{Finding, Related, Rule, Severity, Suggestion};
pub use model::{HostIp, Mode, PortMapping, PortRange, Protocol, Published};
pub use convention::{
    AlternativeGroup, BindPolicy, Convention, Discovery, PortAssignment, RangeDef, ServiceDef,
    TOOL_VERSION, convention_schema,
};
pub use allocate::{allocate, allocate_replica};
pub use validate::{EPHEMERAL_PORTS, validate_convention};
pub use env_ports::{ConventionInfo, LoadedPorts, parse_env_port, resolve_ports};
