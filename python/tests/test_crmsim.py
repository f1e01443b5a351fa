"""The Python package against the command line: the same numbers, bit for
bit, the same errors, and tables that pandas and polars read."""

from __future__ import annotations

import _thread
import io
import os
import pathlib
import subprocess
import threading
import time
import tomllib

import numpy as np
import pandas as pd
import pytest

import crmsim

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALLIUM = ROOT / "scenarios" / "gallium-eu.toml"
DEFENCE = ROOT / "scenarios" / "defence-supply.toml"


def cli() -> str:
    """The crmsim binary built from the same sources (`cargo build --release`)."""
    path = os.environ.get("CRMSIM_BIN", str(ROOT / "target" / "release" / "crmsim"))
    if not pathlib.Path(path).exists():
        pytest.fail(f"{path}: build the command first (cargo build --release)")
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *args], capture_output=True, text=True, cwd=ROOT)


def read_csv(path: pathlib.Path) -> pd.DataFrame:
    return pd.read_csv(path, **crmsim._ROUND_TRIP)


def assert_frames_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every column and value equal, floats bit for bit (NaN where both are)."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for c in want.columns:
        g, w = got[c], want[c]
        if isinstance(g.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(g):
            assert g.astype(str).tolist() == w.astype(str).tolist(), c
        elif pd.api.types.is_integer_dtype(g):
            # pandas reads a CSV column of whole numbers as integers, even
            # where the table's column holds numbers: the values must agree.
            assert np.array_equal(g.to_numpy(), w.to_numpy()), c
        else:
            gv = g.to_numpy(dtype=float)
            wv = w.to_numpy(dtype=float)
            assert np.array_equal(gv.view(np.int64), wv.view(np.int64)) or np.array_equal(
                gv, wv, equal_nan=True
            ), c


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("cli") / "defence"
    done = run_cli("run", str(DEFENCE), "--runs", "3000", "--seed", "11", "--quiet",
                   "--no-charts", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def result() -> crmsim.Result:
    return crmsim.run(DEFENCE, runs=3000, seed=11)


def test_a_run_writes_the_bytes_the_command_writes(result, cli_run, tmp_path):
    out = result.write(tmp_path / "py", charts=False)
    for name in ["summary.json", "timeseries.csv", "runs.csv", "params.csv", "stocks.csv",
                 "scenario.toml", "resolved.txt"]:
        assert (out / name).read_bytes() == (cli_run / name).read_bytes(), name


def test_the_data_frames_hold_the_csv_files_values(result, cli_run):
    for name in ["timeseries", "runs", "params"]:
        assert_frames_equal(getattr(result, name), read_csv(cli_run / f"{name}.csv"))
    runs = result.runs
    assert runs["run"].dtype == np.int64
    assert len(runs) == 3000 * 6
    assert result.summary["runs"] == 3000 and result.summary["seed"] == 11
    assert result.n_runs == 3000 and result.seed == 11


def test_threads_do_not_change_a_bit(result):
    one = crmsim.run(DEFENCE, runs=3000, seed=11, threads=1)
    assert one.summary == result.summary
    assert_frames_equal(one.runs, result.runs)


def test_text_and_dict_give_the_same_study_as_the_file():
    text = GALLIUM.read_text()
    with open(GALLIUM, "rb") as f:
        as_dict = tomllib.load(f)
    by_path = crmsim.run(str(GALLIUM), runs=500, seed=3)
    for scenario in (text, as_dict):
        other = crmsim.run(scenario, runs=500, seed=3)
        assert other.summary == by_path.summary
        assert_frames_equal(other.runs, by_path.runs)


def test_out_writes_the_folder(tmp_path):
    crmsim.run(GALLIUM, runs=200, out=tmp_path / "g")
    assert (tmp_path / "g" / "summary.json").is_file()
    assert (tmp_path / "g" / "report.html").is_file()


def test_parquet_files_read_by_pandas_and_polars_equal_the_frames(result, tmp_path):
    import polars as pl

    out = result.write(tmp_path / "pq", charts=False, format="parquet")
    for name in ["timeseries", "runs", "params"]:
        assert not (out / f"{name}.csv").exists()
        by_pandas = pd.read_parquet(out / f"{name}.parquet")
        assert_frames_equal(by_pandas, getattr(result, name))
        by_polars = pl.read_parquet(out / f"{name}.parquet").to_pandas()
        assert_frames_equal(by_polars, getattr(result, name))
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["run"].dtype == np.int64
    assert runs["shortfall_t"].dtype == np.float64


def test_a_scenario_error_names_the_file_line_and_field():
    bad = ROOT / "tests" / "bad" / "wrong-type.toml"
    done = run_cli("validate", str(bad))
    with pytest.raises(crmsim.ScenarioError) as e:
        crmsim.run(bad)
    assert str(e.value) == done.stderr.removeprefix("error: ").rstrip("\n")
    assert (e.value.path, e.value.line, e.value.field) == (str(bad), 13, "material[0].demand_tpy")
    assert isinstance(e.value, ValueError)

    bad = ROOT / "tests" / "bad" / "beta-alpha-zero.toml"
    with pytest.raises(crmsim.ScenarioError) as e:
        crmsim.validate(bad)
    assert e.value.line == 32
    assert e.value.field == "disruption[export controls].severity.alpha"
    assert str(e.value) == run_cli("validate", str(bad)).stderr.removeprefix("error: ").rstrip()


def small(**material) -> dict:
    m = {"id": "a", "demand_tpy": 10, "price_eur_per_t": 1, "value_of_lost_load_eur_per_t": 2,
         "source": [{"region": "A", "share": 1}]}
    m.update(material)
    return {"simulation": {"name": "s", "start_year": 2025, "years": 2, "runs": 10, "seed": 1},
            "material": [m]}


def test_a_dict_with_a_wrong_type_names_the_field():
    with pytest.raises(crmsim.ScenarioError) as e:
        crmsim.run(small(demand_tpy="forty"))
    assert e.value.field == "material[0].demand_tpy"
    assert e.value.path == "<dict>"
    assert 'invalid type: string "forty"' in str(e.value)

    with pytest.raises(crmsim.ScenarioError) as e:
        crmsim.validate(small(demand_tpy=-4))
    assert e.value.field == "material[a].demand_tpy"
    assert "must be >= 0 (got -4)" in str(e.value)

    with pytest.raises(crmsim.InputError, match=r"material\[0\]\.demand_tpy: a NoneType"):
        crmsim.run(small(demand_tpy=None))
    with pytest.raises(TypeError):
        crmsim.run(42)


def test_options_out_of_range_and_missing_files_are_input_errors(tmp_path):
    with pytest.raises(crmsim.InputError, match="runs: 0 is not in"):
        crmsim.run(GALLIUM, runs=0)
    with pytest.raises(crmsim.InputError, match="threads: 2000 is not in"):
        crmsim.run(GALLIUM, threads=2000)
    with pytest.raises(crmsim.ScenarioError, match="cannot read the scenario"):
        crmsim.run(tmp_path / "nowhere.toml")
    result = crmsim.run(GALLIUM, runs=100)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(crmsim.InputError):
        result.write(tmp_path / "a-file" / "out")
    with pytest.raises(crmsim.InputError, match="format"):
        result.write(tmp_path / "o", format="xlsx")


def test_sweep_and_compare_give_the_command_tables(tmp_path):
    done = run_cli("sweep", str(GALLIUM), "--set", "stockpile.gallium.target_days=0,60",
                   "--runs", "400", "--seed", "2", "--quiet", "--no-charts",
                   "--out", str(tmp_path / "sweep"))
    assert done.returncode == 0, done.stderr
    got = crmsim.sweep(GALLIUM, {"stockpile.gallium.target_days": [0, 60]}, runs=400, seed=2)
    assert_frames_equal(got, read_csv(tmp_path / "sweep" / "sweep.csv"))

    policy = ROOT / "scenarios" / "policies"
    policies = sorted(policy.glob("*.toml"))[:2]
    base = ROOT / "scenarios" / "eu-stockpile-feasibility.toml"
    done = run_cli("compare", str(base), *[a for p in policies for a in ("--policy", str(p))],
                   "--runs", "300", "--seed", "4", "--quiet", "--no-charts",
                   "--out", str(tmp_path / "compare"))
    assert done.returncode == 0, done.stderr
    got = crmsim.compare(base, policies=policies, runs=300, seed=4)
    assert_frames_equal(got, read_csv(tmp_path / "compare" / "compare.csv"))
    with pytest.raises(crmsim.InputError, match="nothing to compare"):
        crmsim.compare(base)


def test_the_simulation_releases_the_gil():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=tick)
    t.start()
    started = time.perf_counter()
    crmsim.run(DEFENCE, runs=20000, seed=1, threads=1)
    ended = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if started < x < ended]
    # Another thread ran while the study ran (with the GIL held for the
    # whole study, it could not have ticked at all).
    assert ended - started > 0.2
    assert len(during) >= 5


@pytest.mark.parametrize("what", ["run", "sweep", "compare"])
def test_ctrl_c_stops_a_study(what):
    long = {
        "run": lambda: crmsim.run(DEFENCE, runs=5_000_000, seed=1, threads=1),
        "sweep": lambda: crmsim.sweep(GALLIUM, {"stockpile.gallium.target_days": [0, 30]},
                                      runs=5_000_000, threads=1),
        "compare": lambda: crmsim.compare(GALLIUM, GALLIUM, runs=5_000_000, threads=1),
    }[what]
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        long()
    # A block of runs at most after the interrupt, not the whole study.
    assert time.perf_counter() - started < 5


def test_the_tables_keep_the_models_balances(result):
    """Two laws from outside the code, checked on what Python receives."""
    # Every step: demand = consumption + demand reduction + shortfall, in
    # every run, so in the means over runs (to rounding).
    ts = result.timeseries
    assert ts["step"].dtype == np.int64
    mean = ts.pivot_table(index=["material", "step"], columns="variable", values="mean",
                          observed=True)
    balance = mean["consumption"] + mean["demand_reduction"] + mean["shortfall"]
    assert np.allclose(balance, mean["demand"], rtol=1e-9, atol=1e-9)
    # The summary's mean shortfall and its share of runs with a shortfall
    # are those of the per-run table.
    runs = result.runs
    for mat, summary in result.summary["materials"].items():
        rows = runs[runs["material"] == mat]
        assert summary["shortfall_t"]["mean"] == pytest.approx(rows["shortfall_t"].mean(),
                                                               rel=1e-12, abs=1e-12)
        assert summary["p_shortfall"] == pytest.approx((rows["shortfall_t"] > 0).mean(),
                                                       abs=1e-12)
