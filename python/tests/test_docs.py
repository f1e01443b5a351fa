"""docs/python.md's worked example runs and prints what the page says."""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "python.md"


def blocks_after(heading: str) -> list:
    """The fenced blocks of the section under `heading`, as (language, text)."""
    text = PAGE.read_text()
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def test_the_worked_example_prints_the_numbers_on_the_page(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    blocks = blocks_after("## A worked example")
    code = next(b for lang, b in blocks if lang == "python")
    printed = next(b for lang, b in blocks if lang == "")
    figure = tmp_path / "fan.png"
    code = code.replace('"gallium-price-fan.png"', repr(str(figure)))
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(PAGE), "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(cwd)
    # Every number the page shows, in order (the layout of pandas' tables
    # may differ between its versions; the numbers may not).
    assert NUMBER.findall(out.getvalue()) == NUMBER.findall(printed)
    assert figure.stat().st_size > 10_000
