"""Type stubs of the extension module (the engine). Use the functions of
the crmsim package, which wrap these and raise crmsim's exception types."""

from typing import Any, Optional

# (name, kind, data, labels): kind "i64" or "f64" (little-endian values),
# "f64?" (NaN where missing), "text" (u32 codes into labels).
Column = tuple[str, str, bytearray, list[str]]

class NativeError(Exception):
    """args: (kind, message, path, line, field); kind is "scenario",
    "input" or "failure"."""

class NativeStudy:
    def summary_json(self) -> str: ...
    def plan(self) -> tuple[int, int]: ...
    def name(self) -> str: ...
    def table(self, which: str) -> list[Column]: ...
    def write(self, out: str, charts: bool, format: str) -> None: ...

def run(
    kind: str,
    scenario: Any,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> NativeStudy: ...
def validate(kind: str, scenario: Any) -> str: ...
def sweep(
    kind: str,
    scenario: Any,
    settings: list[str],
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> str: ...
def compare(
    kind: str,
    base: Any,
    variants: list[tuple[str, Any, Optional[str]]],
    policies: list[str],
    base_policy: Optional[str] = None,
    runs: Optional[int] = None,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
) -> str: ...
def version() -> str: ...
