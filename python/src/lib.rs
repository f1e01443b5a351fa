//! `crmsim._crmsim`: the engine's functions for the Python package. The
//! package's public face (`crmsim/__init__.py`) turns what these return
//! into dicts and pandas data frames and this module's errors into its
//! exception types; nothing here is meant to be called directly.
//!
//! Every function runs the crate's own code (`crmsim::app::study`), so a
//! study gives the bytes `crmsim run` gives. Simulations run with the GIL
//! released, on a thread of their own, while the calling thread checks
//! for Ctrl-C every 50 ms; an interrupt stops the study (a sweep, a
//! comparison) at its next block of runs and raises `KeyboardInterrupt`.

use crmsim::app::study::{self, Options, Source, Study};
use crmsim::app::Error;
use crmsim::output::columns::{Table, Values};
use crmsim::output::Format;
use crmsim::scenario::ScenarioError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

create_exception!(
    _crmsim,
    NativeError,
    PyException,
    "An error of the engine: args are (kind, message, path, line, field), kind one of \
     'scenario', 'input', 'failure'."
);

/// The error as `NativeError(kind, message, path, line, field)`.
fn to_py(e: Error) -> PyErr {
    let scenario = match &e {
        Error::Input(a) | Error::Failure(a) => {
            a.chain().find_map(|c| c.downcast_ref::<ScenarioError>())
        }
    };
    let kind = match (&e, scenario) {
        (_, Some(_)) => "scenario",
        (Error::Input(_), None) => "input",
        (Error::Failure(_), None) => "failure",
    };
    let (path, line, field) = match scenario {
        Some(s) => (Some(s.file().display().to_string()), s.line(), s.field()),
        None => (None, None, None),
    };
    NativeError::new_err((kind, format!("{e:#}"), path, line, field))
}

/// An input error raised from this module (a value Python gave that the
/// engine cannot take), in the shape of [`to_py`]'s.
fn input_error(message: String) -> PyErr {
    NativeError::new_err((
        "input",
        message,
        None::<String>,
        None::<usize>,
        None::<String>,
    ))
}

/// The scenario source: `("path", str)`, `("text", str)` or `("dict",
/// dict)`; a dict becomes TOML text named `<dict>` in messages.
fn source(kind: &str, value: &Bound<'_, PyAny>) -> PyResult<Source> {
    match kind {
        "path" => Ok(Source::File(PathBuf::from(value.extract::<String>()?))),
        "text" => Ok(Source::Text {
            text: value.extract()?,
            name: PathBuf::from("<text>"),
        }),
        "dict" => {
            let table = match to_toml(value, "")? {
                toml::Value::Table(t) => t,
                _ => return Err(input_error("scenario: give a dict".into())),
            };
            let text = toml::to_string(&table)
                .map_err(|e| input_error(format!("scenario: cannot be written as TOML: {e}")))?;
            Ok(Source::Text {
                text,
                name: PathBuf::from("<dict>"),
            })
        }
        _ => Err(input_error(format!("unknown scenario kind {kind:?}"))),
    }
}

/// A Python value in a scenario dict as a TOML value; `at` is its field's
/// path, for the message when the value has no TOML form.
fn to_toml(value: &Bound<'_, PyAny>, at: &str) -> PyResult<toml::Value> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return match value.extract::<i64>() {
            Ok(i) => Ok(toml::Value::Integer(i)),
            Err(_) => Err(input_error(format!(
                "{at}: the integer {value} does not fit in 64 bits"
            ))),
        };
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                input_error(format!("{at}: the key {k} is not a string: keys are names"))
            })?;
            let here = join(&key);
            t.insert(key, to_toml(&v, &here)?);
        }
        return Ok(toml::Value::Table(t));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut a = Vec::new();
        for (i, v) in value.try_iter()?.enumerate() {
            a.push(to_toml(&v?, &format!("{at}[{i}]"))?);
        }
        return Ok(toml::Value::Array(a));
    }
    let type_name = value.get_type().name()?.to_string();
    Err(input_error(format!(
        "{at}: a {type_name} has no place in a scenario: give a number, a string, a bool, a \
         list or a dict{}",
        if value.is_none() {
            " (leave the field out instead of None)"
        } else {
            ""
        }
    )))
}

/// Runs `work` on a thread of its own with the GIL released, checking for
/// signals meanwhile; on an interrupt, sets the stop flag, waits for the
/// work to stop, and raises the signal's exception.
fn interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&AtomicBool) -> T + Send,
) -> PyResult<T> {
    let stop = AtomicBool::new(false);
    let mut interrupt = None;
    let result = std::thread::scope(|s| {
        let handle = s.spawn(|| work(&stop));
        while !handle.is_finished() {
            py.detach(|| std::thread::sleep(Duration::from_millis(50)));
            if interrupt.is_none() {
                if let Err(e) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
        }
        handle.join()
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.map_err(|_| input_error("the engine stopped on an internal error".into()))
}

/// A finished study: the tables and the folder writer.
#[pyclass(module = "crmsim._crmsim", frozen)]
struct NativeStudy {
    study: Study,
}

/// A table as `[(name, kind, data, labels)]`: kind `"i64"` or `"f64"` with
/// the values' little-endian bytes, `"f64?"` with NaN where a value is
/// missing, `"text"` with `u32` codes into `labels`.
fn columns<'py>(py: Python<'py>, table: Table) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for c in table.columns {
        let (kind, bytes, labels): (&str, Vec<u8>, Vec<String>) = match c.values {
            Values::Int(v) => (
                "i64",
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                vec![],
            ),
            Values::Float(v) => (
                "f64",
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                vec![],
            ),
            Values::MaybeFloat(v) => (
                "f64?",
                v.iter()
                    .flat_map(|x| x.unwrap_or(f64::NAN).to_le_bytes())
                    .collect(),
                vec![],
            ),
            Values::Text { codes, labels } => (
                "text",
                codes.iter().flat_map(|x| x.to_le_bytes()).collect(),
                labels,
            ),
        };
        out.append((c.name, kind, PyByteArray::new(py, &bytes), labels))?;
    }
    Ok(out)
}

#[pymethods]
impl NativeStudy {
    /// summary.json's text.
    fn summary_json(&self) -> String {
        String::from_utf8(self.study.summary_json()).expect("JSON is text")
    }

    /// The runs simulated and the seed: `(runs, seed)`.
    fn plan(&self) -> (u64, u64) {
        (self.study.plan.runs, self.study.plan.seed)
    }

    /// The scenario's name.
    fn name(&self) -> String {
        self.study.scenario.name().to_string()
    }

    /// A table's columns: `"runs"`, `"params"` or `"timeseries"`.
    fn table<'py>(&self, py: Python<'py>, which: &str) -> PyResult<Bound<'py, PyList>> {
        let table = match which {
            "runs" => py.detach(|| self.study.runs()).map_err(to_py)?,
            "params" => py.detach(|| self.study.params()).map_err(to_py)?,
            "timeseries" => py.detach(|| self.study.timeseries()),
            _ => return Err(input_error(format!("no table {which:?}"))),
        };
        columns(py, table)
    }

    /// Writes the output folder; `format` is `"csv"` or `"parquet"`.
    fn write(&self, py: Python<'_>, out: PathBuf, charts: bool, format: &str) -> PyResult<()> {
        let format = match format {
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            f => {
                return Err(input_error(format!(
                    "format: {f:?} is not one of \"csv\", \"parquet\""
                )))
            }
        };
        py.detach(|| self.study.write(&out, charts, format))
            .map_err(to_py)
    }
}

/// Simulates a scenario.
#[pyfunction]
#[pyo3(signature = (kind, scenario, runs=None, seed=None, threads=None))]
fn run(
    py: Python<'_>,
    kind: &str,
    scenario: &Bound<'_, PyAny>,
    runs: Option<u64>,
    seed: Option<u64>,
    threads: Option<u64>,
) -> PyResult<NativeStudy> {
    let source = source(kind, scenario)?;
    let options = Options {
        runs,
        seed,
        threads,
    };
    let study = interruptible(py, |stop| Study::run(&source, &options, stop))?;
    Ok(NativeStudy {
        study: study.map_err(|e| {
            // An interrupt seen by the engine before the signal handler.
            if matches!(&e, Error::Failure(a) if a.is::<study::Interrupted>()) {
                pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted")
            } else {
                to_py(e)
            }
        })?,
    })
}

/// Checks a scenario; its description as `crmsim validate` prints it.
#[pyfunction]
fn validate(py: Python<'_>, kind: &str, scenario: &Bound<'_, PyAny>) -> PyResult<String> {
    let source = source(kind, scenario)?;
    py.detach(|| study::validate(&source)).map_err(to_py)
}

/// sweep.csv's text.
#[pyfunction]
#[pyo3(signature = (kind, scenario, settings, runs=None, seed=None, threads=None))]
fn sweep(
    py: Python<'_>,
    kind: &str,
    scenario: &Bound<'_, PyAny>,
    settings: Vec<String>,
    runs: Option<u64>,
    seed: Option<u64>,
    threads: Option<u64>,
) -> PyResult<String> {
    let source = source(kind, scenario)?;
    let options = Options {
        runs,
        seed,
        threads,
    };
    let bytes = interruptible(py, |stop| study::sweep(&source, &settings, &options, stop))?;
    Ok(String::from_utf8(bytes.map_err(to_py)?).expect("CSV is text"))
}

/// compare.csv's text. `variants` are `(kind, scenario, label)`, the label
/// `None` for the default (the path, `<dict>` or `<text>`).
#[pyfunction]
#[pyo3(signature = (kind, base, variants, policies, base_policy=None, runs=None, seed=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    kind: &str,
    base: &Bound<'_, PyAny>,
    variants: Vec<(String, Bound<'_, PyAny>, Option<String>)>,
    policies: Vec<PathBuf>,
    base_policy: Option<PathBuf>,
    runs: Option<u64>,
    seed: Option<u64>,
    threads: Option<u64>,
) -> PyResult<String> {
    let base = source(kind, base)?;
    let variants = variants
        .iter()
        .map(|(k, v, label)| Ok((label.clone(), source(k, v)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let options = Options {
        runs,
        seed,
        threads,
    };
    let bytes = interruptible(py, |stop| {
        study::compare(
            &base,
            &variants,
            &policies,
            base_policy.as_deref(),
            &options,
            stop,
        )
    })?;
    Ok(String::from_utf8(bytes.map_err(to_py)?).expect("CSV is text"))
}

/// The engine's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The module.
#[pymodule]
fn _crmsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_class::<NativeStudy>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
