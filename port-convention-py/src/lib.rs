//! Python binding of port-convention: `import port_convention`.
//!
//! The binding holds no rule of its own. Each function converts its Python
//! arguments to the core's types, calls the core, and returns
//! `serde_json::to_value` of the core's answer as plain Python values (dicts,
//! lists, ints, strings, booleans, `None`), so the keys are exactly the core's
//! JSON field names: the CLI's `--format json`, the Node binding and this one
//! agree field for field.
//!
//! Every error of the core becomes a `PortConventionError` (a `ValueError`)
//! carrying the core's stable code, message, location and findings; see
//! [`raise`].
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use ::port_convention::interpolation::interpolate_map;
use ::port_convention::{Error, io, port_spec};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde::Serialize;
use serde_json::Value;

pyo3::create_exception!(
    port_convention,
    PortConventionError,
    PyValueError,
    "An error of port-convention, with the same stable code as the CLI and the Node binding.

Attributes:
    code: the stable kebab-case code (``\"validation-failed\"``, ``\"io\"``,
        ``\"invalid-port-spec\"`` ...; see ``ERROR_CODES``).
    findings: one finding dict per problem when ``code`` is
        ``\"validation-failed\"``, else an empty list.
    location: ``{\"file\", \"line\", \"column\"}`` when the error is tied to a place in
        a file (YAML and convention errors, ``.env`` errors), else ``None``.

The message (``str(error)``) is the core's message, word for word."
);

// ---------------------------------------------------------------------------
// The two conversions and the one error mapping.

/// The one conversion of answers: a JSON value into plain Python objects.
fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(fields) => {
            let dict = PyDict::new(py);
            for (key, item) in fields {
                dict.set_item(key, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A core value as Python objects, through its JSON form.
fn to_py<'py, T: Serialize + ?Sized>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|err| PyRuntimeError::new_err(format!("cannot serialize a result: {err}")))?;
    json_to_py(py, &json)
}

/// The one conversion of inputs: a Python value (str, int, float, bool,
/// None, mapping with str keys, list or tuple) into JSON; other types are a
/// `TypeError`. `on_string` maps
/// every string value (not the keys), for interpolation.
fn py_to_json(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    on_string: &dyn Fn(String) -> Result<String, Error>,
) -> PyResult<Value> {
    if value.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = value.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if let Ok(i) = value.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            Ok(Value::from(v))
        } else if let Ok(v) = i.extract::<u64>() {
            Ok(Value::from(v))
        } else {
            Err(raise(
                py,
                Error::InvalidArgument {
                    message: format!("integer {i} is out of range"),
                },
            ))
        }
    } else if let Ok(f) = value.cast::<PyFloat>() {
        let v = f.value();
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| {
                raise(
                    py,
                    Error::InvalidArgument {
                        message: format!("{v} is not a finite number"),
                    },
                )
            })
    } else if let Ok(s) = value.cast::<PyString>() {
        let text = s.to_str()?.to_owned();
        on_string(text)
            .map(Value::String)
            .map_err(|err| raise(py, err))
    } else if let Ok(mapping) = value.cast::<PyMapping>() {
        let mut fields = serde_json::Map::new();
        for pair in mapping.items()?.iter() {
            let (key, item): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("mapping keys must be str"))?;
            fields.insert(key, py_to_json(py, &item, on_string)?);
        }
        Ok(Value::Object(fields))
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in value.try_iter()? {
            items.push(py_to_json(py, &item?, on_string)?);
        }
        Ok(Value::Array(items))
    } else {
        Err(PyTypeError::new_err(format!(
            "cannot use a value of type {} here",
            value.get_type().name()?
        )))
    }
}

/// A `Mapping[str, str]` (a dict, `os.environ` or any object with `items()`)
/// as a map; `skip_invalid` drops entries that are not two `str`s (used for
/// `os.environ`, whose undecodable entries the core skips too) instead of
/// raising `TypeError`.
fn env_map(value: &Bound<'_, PyAny>, skip_invalid: bool) -> PyResult<BTreeMap<String, String>> {
    if let Ok(dict) = value.cast::<PyDict>()
        && let Ok(map) = dict.extract::<BTreeMap<String, String>>()
    {
        return Ok(map);
    }
    let items = value
        .call_method0("items")
        .map_err(|_| PyTypeError::new_err("env must be a mapping of str to str"))?;
    let mut map = BTreeMap::new();
    for item in items.try_iter()? {
        match item?.extract::<(String, String)>() {
            Ok((key, val)) => {
                map.insert(key, val);
            }
            Err(_) if skip_invalid => {}
            Err(_) => return Err(PyTypeError::new_err("env must be a mapping of str to str")),
        }
    }
    Ok(map)
}

/// `env` as a map, or `os.environ` when `None`.
fn env_or_process(
    py: Python<'_>,
    env: Option<&Bound<'_, PyAny>>,
) -> PyResult<BTreeMap<String, String>> {
    match env {
        Some(env) => env_map(env, false),
        None => env_map(&py.import("os")?.getattr("environ")?, true),
    }
}

/// `env` as a map, or an empty one when `None`.
fn env_or_empty(env: Option<&Bound<'_, PyAny>>) -> PyResult<BTreeMap<String, String>> {
    env.map_or_else(|| Ok(BTreeMap::new()), |env| env_map(env, false))
}

/// The one mapping of core errors: a `PortConventionError` whose message is
/// the core's, with `code`, `findings` and `location` attributes.
fn raise(py: Python<'_>, err: Error) -> PyErr {
    let exception = PortConventionError::new_err(err.to_string());
    let attach = || -> PyResult<()> {
        let value = exception.value(py);
        value.setattr("code", err.code())?;
        value.setattr("findings", to_py(py, err.findings())?)?;
        value.setattr("location", to_py(py, &err.location())?)?;
        Ok(())
    };
    match attach() {
        Ok(()) => exception,
        Err(other) => other,
    }
}

// ---------------------------------------------------------------------------
// The functions.

/// Loads the convention and returns its ports, with environment overrides,
/// every value validated.
///
/// Args:
///     convention: path of the convention; default: ``ports.yaml`` in
///         ``cwd`` or the nearest parent.
///     env: the environment (a mapping of str to str); default: ``os.environ``.
///     env_files: ``.env`` files read in order (a later file wins); the
///         environment wins over all of them.
///     cwd: where the search for ``ports.yaml`` starts; default: the
///         working directory.
///
/// Returns:
///     ``{"convention": {"name", "version"}, "ports": {VAR: port},
///     "services": {service: {port name: port}}}``.
///
/// Raises:
///     PortConventionError: ``convention-not-found``, ``io``, a convention
///         error, ``dotenv-syntax``, or ``validation-failed`` with every
///         problem in ``findings`` at once.
#[pyfunction]
#[pyo3(signature = (convention=None, env=None, env_files=None, cwd=None))]
fn load_ports<'py>(
    py: Python<'py>,
    convention: Option<PathBuf>,
    env: Option<&Bound<'py, PyAny>>,
    env_files: Option<Vec<PathBuf>>,
    cwd: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = io::LoadOptions {
        convention,
        env: Some(env_or_process(py, env)?),
        env_files: env_files.unwrap_or_default(),
        cwd,
    };
    let loaded = py
        .detach(|| io::load_ports(&options))
        .map_err(|err| raise(py, err))?;
    to_py(py, &loaded)
}

/// Parses one compose ``ports:`` entry as Docker Compose does.
///
/// Args:
///     spec: a short-syntax string (``"127.0.0.1:7000:5432/tcp"``), an int
///         (``80``), or a long-syntax dict (``{"target": 80, "published": "8080"}``).
///         Strings, also inside a dict, are interpolated with ``env`` first.
///     env: variables for interpolation; default: none set.
///
/// Returns:
///     A list of mapping dicts ``{"host_ip", "published", "target",
///     "protocol", "mode"}`` (plus ``"name"``/``"app_protocol"`` when set),
///     in compose-go's order; a container range gives one per port.
///
/// Raises:
///     PortConventionError: ``invalid-port-spec``, or ``invalid-template`` /
///         ``required-variable`` from interpolation.
#[pyfunction]
#[pyo3(signature = (spec, env=None))]
fn parse_port_spec<'py>(
    py: Python<'py>,
    spec: &Bound<'py, PyAny>,
    env: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let env = env_or_empty(env)?;
    let entry = py_to_json(py, spec, &Ok)?;
    let mappings =
        port_spec::parse_port_entry_with_env(&entry, &env).map_err(|err| raise(py, err))?;
    to_py(py, &mappings)
}

/// Interpolates ``template`` as Docker Compose does (``$VAR``, ``${VAR}``,
/// ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``, ``${VAR+alt}``,
/// ``${VAR:?error}``, ``${VAR?error}``, ``$$``).
///
/// Args:
///     template: the text.
///     env: the set variables (a mapping of str to str).
///
/// Returns:
///     ``{"value": str, "uses": [...]}``; each use has ``name``, ``operator``,
///     ``span`` (``{"start", "end"}``, UTF-8 byte offsets), ``default``,
///     ``value`` and ``default_taken``.
///
/// Raises:
///     PortConventionError: ``invalid-template`` or ``required-variable``.
#[pyfunction]
fn interpolate<'py>(
    py: Python<'py>,
    template: &str,
    env: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let env = env_map(env, false)?;
    let out = interpolate_map(template, &env).map_err(|err| raise(py, err))?;
    to_py(py, &out)
}

/// Parses the text of a ``.env`` file as Docker Compose does.
///
/// Args:
///     text: the file's text.
///     env: the environment, for keys written without ``=`` and for
///         interpolation (where it wins over earlier keys of the file);
///         default: none set.
///
/// Returns:
///     ``{"values": {KEY: value}, "entries": [...], "duplicates": [...]}``;
///     ``values`` holds the last value of each key, ``entries`` every
///     ``KEY=value`` in file order (``key``, ``value``, ``line``, ``column``,
///     ``raw_value``, ``quote``, ``inherited``), ``duplicates`` each repeated
///     key (``key``, ``first_line``, ``second_line``).
///
/// Raises:
///     PortConventionError: ``dotenv-syntax``, or ``invalid-template`` /
///         ``required-variable`` from interpolation, each with ``location``.
#[pyfunction]
#[pyo3(signature = (text, env=None))]
fn parse_dotenv<'py>(
    py: Python<'py>,
    text: &str,
    env: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let env = env_or_empty(env)?;
    let dotenv =
        ::port_convention::dotenv::parse_dotenv(".env", text, &|name| env.get(name).cloned())
            .map_err(|err| raise(py, err))?;
    let result = to_py(py, &dotenv)?;
    result.set_item("values", to_py(py, &dotenv.to_map())?)?;
    Ok(result)
}

/// Validates a convention against its own rules.
///
/// Args:
///     path_or_text: a path (str or ``os.PathLike``) of a ``ports.yaml``, or
///         its YAML text (a str with a newline or ``": "`` that is not an
///         existing file).
///
/// Returns:
///     The list of finding dicts (errors and warnings), in the core's order.
///
/// Raises:
///     PortConventionError: ``io``, ``yaml-syntax``, ``invalid-convention``
///         or ``tool-version-mismatch`` (with ``location``).
#[pyfunction]
fn validate_convention<'py>(
    py: Python<'py>,
    path_or_text: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let convention = if let Ok(text) = path_or_text.cast::<PyString>() {
        let text = text.to_str()?.to_owned();
        py.detach(|| io::convention_from_path_or_text(&text))
    } else {
        let path: PathBuf = path_or_text.extract()?;
        py.detach(|| io::load_convention(&path))
    }
    .map_err(|err| raise(py, err))?;
    to_py(py, &::port_convention::validate_convention(&convention))
}

/// The ``count`` lowest free ports of a named range, ascending.
///
/// A port is free when no service of the convention is assigned it and it
/// lies in no reserved range.
///
/// Args:
///     range: the range's name.
///     convention: path of the convention; default: ``ports.yaml`` found
///         upward from the working directory.
///     count: how many ports.
///
/// Raises:
///     PortConventionError: ``unknown-range``, ``range-full``,
///         ``invalid-argument`` (count below 1), or an error loading the
///         convention.
#[pyfunction]
#[pyo3(signature = (range, convention=None, count=1))]
fn allocate<'py>(
    py: Python<'py>,
    range: &str,
    convention: Option<PathBuf>,
    count: i128,
) -> PyResult<Bound<'py, PyAny>> {
    // A negative count is as meaningless as 0, which the core rejects.
    let count = usize::try_from(count.max(0)).unwrap_or(usize::MAX);
    let ports = py
        .detach(|| {
            let (_, convention) = io::load_convention_or_find(convention.as_deref())?;
            ::port_convention::allocate(&convention, range, count, &[])
        })
        .map_err(|err| raise(py, err))?;
    to_py(py, &ports)
}

/// Checks a tree: every compose file and ``.env`` file under ``root``
/// against the convention and against each other.
///
/// Args:
///     root: the directory to scan; default: the directory of the
///         convention, else the working directory.
///     convention: path of the convention; default: ``ports.yaml`` found
///         upward from ``root`` (none found: clashes and file problems are
///         still checked).
///     env_files: ``.env`` files replacing each compose project's ``.env``
///         for interpolation (a later file wins).
///     env: the environment compose files are interpolated with (it wins
///         over ``.env`` files); default: ``os.environ``.
///
/// Returns:
///     The JSON report of the CLI: ``{"version": 1, "findings": [...],
///     "summary": {"files", "services", "mappings", "errors", "warnings"}}``.
///     File names in findings are relative to ``root``.
///
/// Raises:
///     PortConventionError: what keeps the check from running (an unreadable
///         or invalid convention, a missing directory ...). Problems found
///         are findings, not errors.
#[pyfunction]
#[pyo3(signature = (root=None, convention=None, env_files=None, env=None))]
fn check<'py>(
    py: Python<'py>,
    root: Option<PathBuf>,
    convention: Option<PathBuf>,
    env_files: Option<Vec<PathBuf>>,
    env: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = io::CheckOptions {
        paths: root.into_iter().collect(),
        convention,
        env_files: env_files.unwrap_or_default(),
        env: Some(env_or_process(py, env)?),
        convention_only: false,
    };
    let outcome = py
        .detach(|| io::check(&options))
        .map_err(|err| raise(py, err))?;
    to_py(py, &outcome.report)
}

/// Every rule, in the core's order: a tuple of dicts with `id`, `severity`,
/// `subject` and `summary` (the core's `Rule::doc`).
fn rules(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    let rules = port_convention::Rule::ALL
        .iter()
        .map(|rule| {
            to_py(
                py,
                &serde_json::json!({
                    "id": rule.id(),
                    "severity": rule.severity(),
                    "subject": rule.subject(),
                    "summary": rule.summary(),
                }),
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, rules)
}

/// Runs the ``port-convention`` command line (the Rust CLI itself) on
/// ``argv`` (program name first) and returns its exit code. The console
/// script ``port-convention`` of this package calls it; the GIL is released
/// while it runs.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> i32 {
    py.detach(|| port_convention_cli::run(argv))
}

/// Declare a team's host-port convention once (``ports.yaml``) and enforce it
/// across docker-compose files, ``.env`` files and programs.
#[pymodule(gil_used = false)]
#[pyo3(name = "port_convention")]
fn python_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PortConventionError", py.get_type::<PortConventionError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ERROR_CODES", PyTuple::new(py, Error::CODES)?)?;
    m.add("RULES", rules(py)?)?;
    m.add_function(wrap_pyfunction!(load_ports, m)?)?;
    m.add_function(wrap_pyfunction!(parse_port_spec, m)?)?;
    m.add_function(wrap_pyfunction!(interpolate, m)?)?;
    m.add_function(wrap_pyfunction!(parse_dotenv, m)?)?;
    m.add_function(wrap_pyfunction!(validate_convention, m)?)?;
    m.add_function(wrap_pyfunction!(allocate, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyo3::ffi::c_str;
    use pyo3::types::PyModule;

    /// Runs `f` with a fresh `port_convention` module built in-process.
    fn with_module(f: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyModule>) -> PyResult<()>) {
        Python::initialize();
        Python::attach(|py| {
            let module = PyModule::new(py, "port_convention")?;
            python_module(&module)?;
            f(py, &module)
        })
        .unwrap_or_else(|err| panic!("Python error: {err}"));
    }

    #[test]
    fn json_values_become_plain_python_values() {
        with_module(|py, _| {
            let json = serde_json::json!({
                "a": [1, -2, 18446744073709551615u64, 1.5, true, null, "x"],
                "b": {"c": {}}
            });
            let value = json_to_py(py, &json)?;
            let globals = PyDict::new(py);
            globals.set_item("v", value)?;
            py.run(
                c_str!(
                    "assert v == {'a': [1, -2, 18446744073709551615, 1.5, True, None, 'x'], 'b': {'c': {}}}\n\
                     assert type(v['a'][4]) is bool and type(v['a'][0]) is int"
                ),
                Some(&globals),
                None,
            )
        });
    }

    #[test]
    fn python_values_become_json_with_strings_mapped() {
        with_module(|py, _| {
            let value = py.eval(
                c_str!("{'t': 80, 'p': '${P}', 'x-n': [None, 2.5, ('a',)]}"),
                None,
                None,
            )?;
            let upper = |s: String| Ok(s.to_uppercase());
            let json = py_to_json(py, &value, &upper)?;
            assert_eq!(
                json,
                serde_json::json!({"t": 80, "p": "${P}", "x-n": [null, 2.5, ["A"]]})
            );
            let nan = py.eval(c_str!("float('nan')"), None, None)?;
            let err = py_to_json(py, &nan, &upper).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("not a finite number")));
            let set = py.eval(c_str!("{1}"), None, None)?;
            assert!(py_to_json(py, &set, &upper).is_err());
            Ok(())
        });
    }

    #[test]
    fn errors_carry_code_findings_and_location() {
        with_module(|py, module| {
            let globals = PyDict::new(py);
            globals.set_item("pc", module)?;
            py.run(
                c_str!(
                    "try:\n    pc.parse_dotenv('A=1\\nB=\"open\\n')\nexcept ValueError as e:\n    err = e\n\
                     assert isinstance(err, pc.PortConventionError)\n\
                     assert err.code == 'dotenv-syntax' and err.findings == []\n\
                     assert err.location == {'file': '.env', 'line': 2, 'column': 3}, err.location\n\
                     assert str(err).startswith('.env:2:3: ')\n\
                     conv = 'version: 1.0.0\\nranges: { db: { ports: 7000-7099 } }\\nservices:\\n  pg: { range: db, ports: { sql: { port: 7000, env: PG_PORT } } }\\n'\n\
                     import tempfile, os\n\
                     d = tempfile.mkdtemp(); path = os.path.join(d, 'ports.yaml'); open(path, 'w').write(conv)\n\
                     assert pc.load_ports(path, env={'PG_PORT': '7005'})['services'] == {'pg': {'sql': 7005}}\n\
                     try:\n    pc.load_ports(path, env={'PG_PORT': '80'})\nexcept pc.PortConventionError as e:\n    err = e\n\
                     assert err.code == 'validation-failed' and err.location is None\n\
                     assert [f['rule'] for f in err.findings] == ['env-port-out-of-range'], err.findings\n\
                     assert err.findings[0]['suggestion'] == {'port': 7000}\n\
                     assert set(pc.ERROR_CODES) >= {'io', 'validation-failed', 'invalid-port-spec'}"
                ),
                Some(&globals),
                None,
            )
        });
    }

    #[test]
    fn environment_mappings_of_any_kind() {
        with_module(|py, _| {
            let environ = py.import("os")?.getattr("environ")?;
            let map = env_map(&environ, true)?;
            assert_eq!(map.get("PATH"), std::env::var("PATH").ok().as_ref());
            let bad = py.eval(c_str!("{'A': 1}"), None, None)?;
            assert!(env_map(&bad, false).is_err());
            let not_a_mapping = py.eval(c_str!("['A=1']"), None, None)?;
            assert!(env_map(&not_a_mapping, false).is_err());
            Ok(())
        });
    }
}
