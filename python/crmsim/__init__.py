"""crmsim: Monte Carlo simulation of critical raw material supply.

The engine of the ``crmsim`` command, called in-process: the same checks,
the same messages and, for the same scenario, seed and runs, the same
numbers bit for bit. Results come back as a dict (the summary) and pandas
data frames (the per-step, per-run and drawn-number tables).

    >>> import crmsim
    >>> result = crmsim.run("scenarios/gallium-eu.toml", runs=2000, seed=1)
    >>> result.summary["materials"]["gallium"]["p_shortfall"]
    >>> result.timeseries.query("variable == 'price_multiple'")

A scenario is given as a path (``str`` or ``os.PathLike``), as TOML text (a
``str`` holding a line break), or as a dict in the file's shape::

    {"simulation": {...}, "material": [{...}], "disruption": [{...}]}

See docs/python.md for the whole interface.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

import numpy as np
import pandas as pd

from . import _crmsim

__all__ = [
    "CrmsimError",
    "InputError",
    "ScenarioError",
    "RunError",
    "Result",
    "run",
    "validate",
    "sweep",
    "compare",
    "__version__",
]

__version__: str = _crmsim.version()

Scenario = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class CrmsimError(Exception):
    """Every error crmsim raises (but ``KeyboardInterrupt``)."""


class InputError(CrmsimError, ValueError):
    """What was asked is wrong: an option out of range, a data file, a
    destination crmsim may not write, a study above the memory limit (the
    command line's exit code 2)."""


class ScenarioError(InputError):
    """The scenario is wrong. The message is the command line's; the
    attributes say where:

    - ``path``: the file (``"<dict>"`` for a dict, ``"<text>"`` for TOML
      text), or ``None`` when not known;
    - ``line``: the 1-based line in it, or ``None``;
    - ``field``: the field's path, such as ``material[gallium].demand_tpy``
      or ``material[0].demand_tpy``, or ``None``.
    """

    def __init__(
        self,
        message: str,
        path: Optional[str] = None,
        line: Optional[int] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


class RunError(CrmsimError, RuntimeError):
    """The study could not be finished or written: the file system failed
    (a full disk, a temporary file that cannot be read back) or an
    internal error (the command line's exit code 1)."""


def _error(e: "_crmsim.NativeError") -> CrmsimError:
    kind, message, path, line, field = e.args
    if kind == "scenario":
        return ScenarioError(message, path, line, field)
    if kind == "input":
        return InputError(message)
    return RunError(message)


def _native(f: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return f(*args, **kwargs)
    except _crmsim.NativeError as e:
        raise _error(e) from None


def _source(scenario: Scenario) -> tuple:
    """The scenario as the engine takes it: (kind, value)."""
    if isinstance(scenario, os.PathLike):
        return ("path", os.fspath(scenario))
    if isinstance(scenario, str):
        return ("text", scenario) if "\n" in scenario else ("path", scenario)
    if isinstance(scenario, Mapping):
        return ("dict", dict(scenario))
    raise TypeError(
        "scenario: give a path, TOML text or a dict in the scenario file's shape, "
        f"not a {type(scenario).__name__}"
    )


def _frame(columns: list) -> pd.DataFrame:
    """A data frame from the engine's columns (name, kind, bytes, labels)."""
    data = {}
    for name, kind, raw, labels in columns:
        if kind == "i64":
            data[name] = np.frombuffer(raw, dtype="<i8")
        elif kind in ("f64", "f64?"):
            data[name] = np.frombuffer(raw, dtype="<f8")
        elif kind == "text":
            codes = np.frombuffer(raw, dtype="<u4").astype(np.int32)
            data[name] = pd.Categorical.from_codes(codes, categories=labels)
        else:  # pragma: no cover - the engine gives only these kinds
            raise RunError(f"unknown column kind {kind!r}")
    return pd.DataFrame(data, copy=False)


# pandas reads every number back to its bits from version 3 on; before, only
# with the round-trip parser (which version 3 deprecates).
_ROUND_TRIP: dict = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)


def _csv_frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), **_ROUND_TRIP)


class Result:
    """A finished study.

    - ``summary``: summary.json's content as a dict;
    - ``timeseries``, ``runs``, ``params``: the CSV files' tables as pandas
      data frames, with the files' columns (``material`` and ``variable``
      are categorical; a demand tier a material lacks is NaN), made on
      first use;
    - ``write(dir)``: the output folder ``crmsim run --out dir`` writes.
    """

    def __init__(self, native: "_crmsim.NativeStudy") -> None:
        self._native = native
        self._summary: Optional[dict] = None
        self._tables: dict = {}

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self._native.name()

    @property
    def n_runs(self) -> int:
        """The number of runs simulated."""
        return self._native.plan()[0]

    @property
    def seed(self) -> int:
        """The seed."""
        return self._native.plan()[1]

    @property
    def summary(self) -> dict:
        """summary.json's content."""
        if self._summary is None:
            self._summary = json.loads(self._native.summary_json())
        return self._summary

    def _table(self, which: str) -> pd.DataFrame:
        if which not in self._tables:
            self._tables[which] = _frame(_native(self._native.table, which))
        return self._tables[which]

    @property
    def timeseries(self) -> pd.DataFrame:
        """Per material, step and variable: mean and percentiles over runs."""
        return self._table("timeseries")

    @property
    def runs(self) -> pd.DataFrame:
        """Per run and material: every per-run total."""
        return self._table("runs")

    @property
    def params(self) -> pd.DataFrame:
        """Per run: the uncertain numbers drawn for it."""
        return self._table("params")

    def write(
        self,
        dir: Union[str, "os.PathLike[str]"],
        *,
        charts: bool = True,
        format: str = "csv",
    ) -> pathlib.Path:
        """Writes the output folder (replacing an earlier crmsim folder
        there): summary.json, the tables as ``format`` ("csv" or
        "parquet"), and with ``charts`` the charts and report.html."""
        _native(self._native.write, os.fspath(dir), charts, format)
        return pathlib.Path(dir)

    def __repr__(self) -> str:
        return f"<crmsim.Result {self.name!r}: {self.n_runs} runs, seed {self.seed}>"


def run(
    scenario: Scenario,
    *,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Result:
    """Simulates a scenario, as ``crmsim run`` does.

    ``runs`` and ``seed`` default to the scenario's, ``threads`` to one per
    core (the numbers do not depend on it). With ``out``, the output folder
    is written there too. The simulation runs with the GIL released and
    stops on Ctrl-C (``KeyboardInterrupt``).

    Raises ScenarioError, InputError or RunError.
    """
    kind, value = _source(scenario)
    result = Result(_native(_crmsim.run, kind, value, runs, seed, threads))
    if out is not None:
        result.write(out)
    return result


def validate(scenario: Scenario) -> str:
    """Checks a scenario as ``crmsim validate`` does; returns its
    description. Raises ScenarioError (or InputError for a study above the
    memory limit)."""
    kind, value = _source(scenario)
    return _native(_crmsim.validate, kind, value)


def sweep(
    scenario: Scenario,
    settings: Union[Mapping[str, Sequence[float]], Sequence[str]],
    *,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> pd.DataFrame:
    """Runs a grid of policy variants on one random world, as ``crmsim
    sweep`` does; returns sweep.csv's table.

    ``settings`` maps a numeric field to its values, e.g.
    ``{"stockpile.gallium.target_days": [0, 30, 60]}`` (several make a
    grid), or is a list of the command line's ``PATH=V1,V2`` strings.
    """
    if isinstance(settings, Mapping):
        items = [
            f"{path}=" + ",".join(str(v) for v in values)
            for path, values in settings.items()
        ]
    else:
        items = [str(s) for s in settings]
    kind, value = _source(scenario)
    return _csv_frame(_native(_crmsim.sweep, kind, value, items, runs, seed, threads))


def compare(
    base: Scenario,
    *variants: Scenario,
    labels: Optional[Sequence[str]] = None,
    policies: Sequence[Union[str, "os.PathLike[str]"]] = (),
    base_policy: Optional[Union[str, "os.PathLike[str]"]] = None,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> pd.DataFrame:
    """Compares scenarios run by run on the same random world, as ``crmsim
    compare`` does; returns compare.csv's table (paired differences with
    95 % intervals). ``labels`` name the variants in the table's
    ``variant`` column (by default their paths, ``<dict>`` or ``<text>``);
    ``policies`` are policy files applied to the base (each one more
    variant); ``base_policy`` replaces the base's own stockpiles and
    options. ``runs`` and ``seed`` default to the base's.
    """
    if labels is not None and len(labels) != len(variants):
        raise InputError(f"labels: {len(labels)} given for {len(variants)} variant(s)")
    kind, value = _source(base)
    names = list(labels) if labels is not None else [None] * len(variants)
    others = [(*_source(v), name) for v, name in zip(variants, names)]
    return _csv_frame(
        _native(
            _crmsim.compare,
            kind,
            value,
            others,
            [os.fspath(p) for p in policies],
            None if base_policy is None else os.fspath(base_policy),
            runs,
            seed,
            threads,
        )
    )
