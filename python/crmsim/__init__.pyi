"""Type stubs of the crmsim package (docs/python.md)."""

import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

import pandas as pd

__version__: str

Scenario = Union[str, os.PathLike[str], Mapping[str, Any]]
PathLike = Union[str, os.PathLike[str]]

class CrmsimError(Exception): ...
class InputError(CrmsimError, ValueError): ...

class ScenarioError(InputError):
    path: Optional[str]
    line: Optional[int]
    field: Optional[str]
    def __init__(
        self,
        message: str,
        path: Optional[str] = None,
        line: Optional[int] = None,
        field: Optional[str] = None,
    ) -> None: ...

class RunError(CrmsimError, RuntimeError): ...

class Result:
    @property
    def name(self) -> str: ...
    @property
    def n_runs(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def timeseries(self) -> pd.DataFrame: ...
    @property
    def runs(self) -> pd.DataFrame: ...
    @property
    def params(self) -> pd.DataFrame: ...
    def write(self, dir: PathLike, *, charts: bool = True, format: str = "csv") -> "pathlib.Path": ...

def run(
    scenario: Scenario,
    *,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    out: Optional[PathLike] = None,
) -> Result: ...
def validate(scenario: Scenario) -> str: ...
def sweep(
    scenario: Scenario,
    settings: Union[Mapping[str, Sequence[float]], Sequence[str]],
    *,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> pd.DataFrame: ...
def compare(
    base: Scenario,
    *variants: Scenario,
    labels: Optional[Sequence[str]] = None,
    policies: Sequence[PathLike] = (),
    base_policy: Optional[PathLike] = None,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> pd.DataFrame: ...
