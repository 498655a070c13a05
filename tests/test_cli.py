import hashlib
import json

import pandas as pd
import pytest

from tabsynth.cli import default_output, main
from tabsynth.datasets import load_example


def run(capsys, *args):
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "data.parquet"
    load_example().to_parquet(path)
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_output_name():
    assert default_output("a/data.parquet").as_posix() == "a/data.augmented.parquet"
    assert default_output("x.csv.gz").as_posix() == "x.augmented.csv.gz"


def test_augment_defaults(capsys, table):
    before = digest(table)
    code, out, err = run(capsys, "augment", str(table), "--seed", "0")
    assert code == 0, err
    result = pd.read_parquet(table.with_name("data.augmented.parquet"))
    real = pd.read_parquet(table)
    assert len(result) == 2 * len(real)
    pd.testing.assert_frame_equal(result.iloc[: len(real)], real)
    assert result.dtypes.tolist() == real.dtypes.tolist()
    assert digest(table) == before  # input untouched
    assert "442 input + 442 synthetic" in out


def test_same_seed_same_file(capsys, table, tmp_path):
    for name in ("a.csv", "b.csv"):
        assert run(capsys, "augment", str(table), "--seed", "5", "--rows", "100", "-o", str(tmp_path / name), "-q")[0] == 0
    assert digest(tmp_path / "a.csv") == digest(tmp_path / "b.csv")
    run(capsys, "augment", str(table), "--seed", "6", "--rows", "100", "-o", str(tmp_path / "c.csv"), "-q")
    assert digest(tmp_path / "a.csv") != digest(tmp_path / "c.csv")


def test_json_and_quiet(capsys, table, tmp_path):
    code, out, err = run(capsys, "augment", str(table), "--ratio", "0.5", "--synthetic-only", "--json",
                         "-o", str(tmp_path / "s.jsonl"))
    assert code == 0
    doc = json.loads(out)
    assert doc["rows_synthetic"] == 221 and doc["rows_output"] == 221
    assert len(pd.read_json(tmp_path / "s.jsonl", lines=True)) == 221
    code, out, err = run(capsys, "augment", str(table), "-q", "-o", str(tmp_path / "q.feather"))
    assert code == 0 and out == "" and err == ""


def test_fit_sample_inspect(capsys, table, tmp_path):
    model = tmp_path / "m.tabsynth"
    assert run(capsys, "fit", str(table), "-o", str(model), "--seed", "1", "--backend", "gmm", "--param", "n_components=3")[0] == 0
    code, out, _ = run(capsys, "sample", str(model), "--rows", "50", "-o", str(tmp_path / "s.csv"), "--seed", "2")
    assert code == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 50
    code, out, _ = run(capsys, "inspect", str(table))
    assert code == 0 and "categorical" in out and "progression" in out
    code, out, _ = run(capsys, "inspect", str(table), "--json")
    assert [c["name"] for c in json.loads(out)["columns"]][:2] == ["age", "sex"]


def test_model_file_any_name(capsys, table, tmp_path):
    """A model saved under any name (here ``.model``) can be sampled from."""
    model = tmp_path / "adult.model"
    assert run(capsys, "fit", str(table), "-o", str(model), "--backend", "gmm", "--param", "n_components=2", "-q")[0] == 0
    assert run(capsys, "sample", str(model), "--rows", "5", "-o", str(tmp_path / "s.csv"), "-q")[0] == 0
    assert len(pd.read_csv(tmp_path / "s.csv")) == 5


def test_example_command(capsys, tmp_path):
    code, out, _ = run(capsys, "example", "-o", str(tmp_path / "ex.csv"))
    assert code == 0 and (tmp_path / "ex.csv").exists()


@pytest.mark.parametrize(
    "args, match",
    [
        (["augment", "{d}/missing.csv"], "does not exist"),
        (["augment", "{d}/data.xlsx"], "unknown table format"),
        (["augment", "{t}", "--rows", "-3"], "--rows"),
        (["augment", "{t}", "--rows", "3", "--ratio", "1"], "exclusive"),
        (["augment", "{t}", "--ignore", "nope"], "'nope'"),
        (["augment", "{t}", "--categorical", "nope"], "'nope'"),
        (["augment", "{t}", "--backend", "nope"], "unknown backend"),
        (["augment", "{t}", "--param", "bogus=1"], "no parameter 'bogus'"),
        (["augment", "{d}/empty.csv"], "empty"),
        (["augment", "{d}/header.csv"], "no rows"),
        (["augment", "{d}/onerow.csv"], "single row"),
        (["augment", "{d}/allna.csv"], "column 'b' has no values"),
        (["augment", "{d}/broken.parquet"], "cannot read"),
        (["augment", "{t}", "-o", "{t}"], "same file as INPUT"),
        (["sample", "{d}/corrupt.tabsynth", "--rows", "3", "-o", "{d}/x.csv"], "not a valid tabsynth model"),
        (["sample", "{d}/none.tabsynth", "--rows", "3", "-o", "{d}/x.csv"], "does not exist"),
        (["fit", "{t}"], "-o"),
        (["fit", "{t}", "-o", "{t}"], "same file as INPUT"),
        (["augment", "{t}", "--save-model", "{t}"], "same file as INPUT"),
        (["augment", "{t}", "--report", "{d}/r.csv"], "should end in .html"),
        (["sample", "{d}/m.tabsynth", "--rows", "3", "-o", "{d}/m.tabsynth"], "unknown table format"),
    ],
)
def test_bad_input_one_line_exit_2(capsys, table, tmp_path, args, match):
    d = tmp_path
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("a,b\n")
    (d / "onerow.csv").write_text("a,b\n1,x\n")
    (d / "allna.csv").write_text("a,b\n1,\n2,\n3,\n")
    (d / "broken.parquet").write_bytes(b"PAR1garbage")
    (d / "corrupt.tabsynth").write_bytes(b"garbage")
    before = sorted(p.name for p in d.iterdir())
    argv = [a.format(d=d, t=table) for a in args]
    code, out, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert match in lines[0]
    assert "Traceback" not in err
    assert sorted(p.name for p in d.iterdir()) == before  # nothing written


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "tabsynth" in out


def test_outputs_get_normal_permissions(capsys, table, tmp_path):
    import os
    import stat

    out = tmp_path / "o.csv"
    assert run(capsys, "augment", str(table), "-q", "-o", str(out))[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
