"""Never lose or silently change a user's data: each case of the data-safety issue, as a test."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from tabsynth import GenerativeImputer, Synthesizer
from tabsynth.cli import main
from tabsynth.datasets import load_example
from tabsynth.io import read_table


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(code, err):
    lines = err.strip().splitlines()
    return code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err


@pytest.fixture
def holes_csv(tmp_path):
    df = load_example().head(200).copy()
    df.loc[::7, "bmi"] = np.nan
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------ 1, 7: outputs
@pytest.mark.parametrize("args", [
    ["impute", "{i}", "--save-model", "{i}", "-o", "{d}/out.csv"],          # case 1: model over the input
    ["augment", "{i}", "-o", "{d}/out.csv", "--save-model", "{d}/out.csv"],  # two outputs, one path
    ["augment", "{i}", "-o", "{d}/out.csv", "--report", "{i}"],
    ["augment", "{i}", "-o", "{d}/link.csv"],                               # a symlink to the input
    ["augment", "{i}", "-o", "{d}/out.csv", "--save-model", "{d}/nodir/m.tabsynth"],  # case 7
    ["augment", "{i}", "-o", "{d}/out.csv", "--report", "{d}/nodir/r.html"],
    ["fit", "{i}", "-o", "{d}"],                                            # a directory
])
def test_outputs_planned_before_any_work(cli, tmp_path, holes_csv, args):
    (tmp_path / "link.csv").symlink_to(holes_csv)
    before = {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file()}
    code, _, err = cli(*[a.format(i=holes_csv, d=tmp_path) for a in args])
    assert one_line_error(code, err), err
    after = {p.name: digest(p) for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # input unchanged, nothing written, no temporary file


def test_failure_after_fitting_writes_nothing(cli, tmp_path, holes_csv, monkeypatch):
    """An output that fails late (here: the model file) takes the table output down with it."""
    def boom(self, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Synthesizer, "save", boom)
    with pytest.raises(OSError):
        main(["augment", str(holes_csv), "-o", str(tmp_path / "out.csv"), "--save-model", str(tmp_path / "m.zip")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def _as_from_a_terminal() -> None:
    # the child as a shell in a terminal starts it: the signals delivered, at their default handling. A child
    # inherits ignored signals and the blocked mask; once in a full suite (2026-12-07) the SIGINT case ran to
    # the end with exit 0, as a command started with SIGINT ignored does (a shell's background job), and passed
    # alone every time since; this keeps the test about tabsynth's handling, not the runner's state.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT, signal.SIGTERM])
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.parametrize("name,sig", [("t.csv", signal.SIGTERM), ("t.parquet", signal.SIGINT)])
def test_signal_during_streamed_write_leaves_nothing(tmp_path, name, sig):
    """Case 8: a signal while rows are being streamed removes the staged file; exit code 128 + 15 / 130."""
    model = tmp_path / "m.tabsynth"
    Synthesizer(random_state=0).fit(load_example()).save(model)
    proc = subprocess.Popen([sys.executable, "-m", "tabsynth", "sample", str(model), "--rows", "10000000",
                             "--batch-rows", "20000", "-o", str(tmp_path / name), "--seed", "1"],
                            stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal)
    deadline = time.time() + 60
    staged = None
    while time.time() < deadline and proc.poll() is None:
        staged = next((p for p in tmp_path.iterdir() if p.name.startswith("." + name)), None)
        if staged is not None and staged.stat().st_size > 0:  # some batches are written
            break
        time.sleep(0.05)
    assert staged is not None and proc.poll() is None
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (128 + signal.SIGTERM if sig == signal.SIGTERM else 130), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tabsynth"]


# --------------------------------------------------------- 2, 3: known cells
def test_known_cells_survive_dtype_drift():
    df = load_example()
    model = Synthesizer(random_state=0).fit(df)       # sex: category "1"/"2"; age: int64
    new = df.head(30).copy()
    new["sex"] = new["sex"].astype(int)               # as read from a CSV
    new["age"] = new["age"].astype(float)
    new.loc[0, "age"], new.loc[1, "age"] = 20.5, 40.7
    new.loc[5:9, "sex"] = np.nan
    new.loc[10:14, "age"] = np.nan
    new.loc[3:20, "bmi"] = np.nan
    for out in (model.impute(new, seed=0), GenerativeImputer.from_synthesizer(model, random_state=0).transform(new)):
        known = new.notna()
        for c in new.columns:
            assert (out.loc[known[c], c] == new.loc[known[c], c]).all(), c
        assert out.notna().all().all()
        assert out.loc[:1, "age"].tolist() == [20.5, 40.7]
        assert set(out["sex"]) <= {1.0, 2.0}
        assert out.dtypes.equals(new.dtypes)


def test_unseen_category_is_kept_and_counted(cli, tmp_path):
    df = load_example()
    Synthesizer(random_state=0).fit(df).save(tmp_path / "m.tabsynth")
    new = df.head(20).copy()
    new["sex"] = new["sex"].astype(object)
    new.loc[0, "sex"] = "3"                           # never seen in fit
    new.loc[1:4, "bmi"] = np.nan
    new.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = cli("impute", tmp_path / "new.csv", "--model", tmp_path / "m.tabsynth", "--json",
                         "-o", tmp_path / "f.csv", "--seed", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["cells_unseen"] == {"sex": 1}
    filled = pd.read_csv(tmp_path / "f.csv")
    assert filled.loc[0, "sex"] == 3 and filled["bmi"].notna().all()


def test_given_cells_come_back_exactly():
    df = load_example()
    model = Synthesizer(random_state=0).fit(df)
    given = pd.DataFrame({"sex": [1, 2, 2], "age": [20.5, np.nan, 33.0]})
    out = model.sample(3, given=given, seed=0)
    assert out["sex"].astype(str).tolist() == ["1", "2", "2"]
    assert out.loc[0, "age"] == 20.5 and out.loc[2, "age"] == 33.0  # the column widened to hold 20.5
    with pytest.raises(Exception, match="given column 'sex' has value 'x'"):
        model.sample(1, given=pd.DataFrame({"sex": ["x"]}))


# ------------------------------------------------------------ 4, 11: text
def test_augment_keeps_input_text_exactly(cli, tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    df = pd.DataFrame({
        "zip": [f"{z:05d}" for z in rng.integers(0, 3000, n)],
        "name": rng.choice(["  padded", "x", "y  ", " a b "], n),
        "n": np.where(rng.random(n) < 0.2, "", rng.integers(0, 9, n).astype(str)),
        "flag": rng.choice(["True", "False"], n),
        "day": [str(pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d)))[:10] for d in rng.integers(0, 300, n)],
        "x": rng.normal(size=n).round(3),
    })
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    text = path.read_text()
    code, _, err = cli("augment", path, "-o", tmp_path / "o.csv", "--seed", "0")
    assert code == 0, err
    out = (tmp_path / "o.csv").read_text()
    assert out.startswith(text)                         # input rows, byte for byte
    assert (tmp_path / "o.csv").read_text().count("\n") == 2 * n + 1
    syn = read_table(tmp_path / "o.csv").iloc[n:]
    assert syn["day"].dt.normalize().equals(syn["day"])  # dates stay dates


def test_column_names_kept_exactly(cli, tmp_path):
    (tmp_path / "dup.csv").write_text("a,a\n1,2\n3,4\n")
    code, _, err = cli("inspect", tmp_path / "dup.csv")
    assert one_line_error(code, err) and "duplicate column names 'a'" in err
    (tmp_path / "odd.csv").write_text(" a ,,b\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    df = read_table(tmp_path / "odd.csv")
    assert list(df.columns) == [" a ", "", "b"]
    code, _, err = cli("augment", tmp_path / "odd.csv", "-o", tmp_path / "o.csv", "--seed", "0")
    assert code == 0, err
    assert (tmp_path / "o.csv").read_text().splitlines()[0] == " a ,,b"


def test_na_values_apply_to_parquet(tmp_path):
    pd.DataFrame({"s": ["a", "?", " ?", "b"], "x": [1.0, 2.0, 3.0, 4.0]}).to_parquet(tmp_path / "t.parquet")
    df = read_table(tmp_path / "t.parquet", na_values=["?"])
    assert df["s"].isna().tolist() == [False, True, True, False]


def test_adult_csv_round_trips_byte_for_byte(shared, tmp_path):
    from tabsynth.io import write_table

    src = shared("adult.csv")
    write_table(read_table(src, na_values=["?"]), tmp_path / "a.csv")
    assert digest(tmp_path / "a.csv") == digest(src)


# --------------------------------------------------------------- 5: seeds
def test_unseeded_runs_differ_and_report_their_seed(cli, tmp_path):
    Synthesizer(random_state=0).fit(load_example()).save(tmp_path / "m.tabsynth")
    seeds = []
    for name in ("a.csv", "b.csv"):
        code, out, err = cli("sample", tmp_path / "m.tabsynth", "--rows", "50", "-o", tmp_path / name, "--json")
        assert code == 0, err
        seeds.append(json.loads(out)["seed"])
    assert digest(tmp_path / "a.csv") != digest(tmp_path / "b.csv")
    cli("sample", tmp_path / "m.tabsynth", "--rows", "50", "-o", tmp_path / "c.csv", "--seed", seeds[0])
    assert digest(tmp_path / "a.csv") == digest(tmp_path / "c.csv")  # the reported seed repeats the run


def test_model_files_byte_reproducible_and_record_seed(cli, tmp_path, holes_csv):
    for name in ("m1.tabsynth", "m2.tabsynth"):
        assert cli("fit", holes_csv, "-o", tmp_path / name, "--seed", "4", "-q")[0] == 0
        time.sleep(1.1)  # zip timestamps have 2-second resolution; make sure they would differ
    assert digest(tmp_path / "m1.tabsynth") == digest(tmp_path / "m2.tabsynth")
    with zipfile.ZipFile(tmp_path / "m1.tabsynth") as zf:
        assert json.loads(zf.read("tabsynth.json"))["seed"] == 4
    code, out, _ = cli("fit", holes_csv, "-o", tmp_path / "m3.tabsynth", "--json")
    seed = json.loads(out)["seed"]
    assert isinstance(seed, int)
    assert Synthesizer.load(tmp_path / "m3.tabsynth").seed_ == seed


def test_api_fit_without_seed_records_a_repeatable_one():
    df = load_example()
    a = Synthesizer().fit(df)
    b = Synthesizer(random_state=a.seed_).fit(df)
    assert a.sample(20, seed=1).equals(b.sample(20, seed=1))


# ------------------------------------------------------- 9: no tracebacks
@pytest.mark.parametrize("args, match", [
    (["augment", "{i}", "--param", "random_state=3"], "use --seed"),
    (["augment", "{i}", "--param", "verbose=1"], "use --quiet"),
    (["augment", "{i}", "--ratio", "inf"], "--ratio"),
    (["augment", "{i}", "--ratio", "nan"], "--ratio"),
    (["augment", "{i}", "--threads", "0"], "--threads"),
])
def test_option_mistakes_one_line(cli, tmp_path, holes_csv, args, match):
    code, _, err = cli(*[a.format(i=holes_csv, d=tmp_path) for a in args])
    assert one_line_error(code, err) and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_huge_rows_refused_up_front(tmp_path):
    # rows are streamed (memory does not grow with --rows), so the limit is the disk: refused before writing
    model = tmp_path / "m.tabsynth"
    Synthesizer(random_state=0).fit(load_example()).save(model)
    res = subprocess.run([sys.executable, "-m", "tabsynth", "sample", str(model), "--rows", str(10**14), "-o",
                          str(tmp_path / "big.parquet")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and "GiB on disk" in res.stderr and "--rows" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tabsynth"]


def test_sample_streams_in_batches(cli, tmp_path):
    # rows are drawn and written --batch-rows at a time: one parquet row group per batch, same rows as one batch
    model = tmp_path / "m.tabsynth"
    syn = Synthesizer(random_state=0).fit(load_example())
    syn.save(model)
    code, _, err = cli("sample", str(model), "--rows", "5000", "--batch-rows", "1000", "--seed", "3",
                       "-o", str(tmp_path / "s.parquet"))
    assert code == 0, err
    import pyarrow.parquet as pq

    assert pq.ParquetFile(tmp_path / "s.parquet").metadata.num_row_groups == 5
    assert pd.read_parquet(tmp_path / "s.parquet").equals(syn.sample(5000, seed=3))


@pytest.mark.parametrize("labels", [None, [3, 1, 2]])
def test_imputer_on_arrays_and_integer_labels(labels):
    rng = np.random.default_rng(0)
    arr = rng.normal(size=(120, 3))
    arr[:, 2] += arr[:, 0]
    arr[::6, 1] = np.nan
    arr[3::9, 2] = np.nan
    X = pd.DataFrame(arr) if labels is None else pd.DataFrame(arr, columns=labels)
    out = GenerativeImputer(random_state=0).fit_transform(X)
    assert list(out.columns) == list(X.columns) and out.notna().all().all()
    known = X.notna().to_numpy()
    assert (out.to_numpy()[known] == X.to_numpy()[known]).all()
    filled = GenerativeImputer(random_state=0).fit_transform(arr)
    assert isinstance(filled, np.ndarray) and not np.isnan(filled).any()


# ----------------------------------------------------------- 10: threads
def test_threads_knob_limits_native_pools(monkeypatch):
    from threadpoolctl import threadpool_info

    import tabsynth
    from tabsynth._threads import limited

    monkeypatch.delenv("TABSYNTH_THREADS", raising=False)
    with limited() as n:
        assert n == 1 and all(p["num_threads"] == 1 for p in threadpool_info())
    monkeypatch.setenv("TABSYNTH_THREADS", "2")
    assert tabsynth.get_threads() == 2
    tabsynth.set_threads(1)
    try:
        assert tabsynth.get_threads() == 1
        with pytest.raises(tabsynth.InputError):
            tabsynth.set_threads(0)
    finally:
        tabsynth.set_threads(None)
