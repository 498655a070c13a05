"""The command line on several tables (a database) and on entity histories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from tabsynth.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_database import shop  # noqa: E402
from test_sequences import panel  # noqa: E402


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.fixture
def shop_files(tmp_path):
    paths = []
    for name, df in shop().items():
        p = tmp_path / (f"{name}.parquet" if name == "orders" else f"{name}.csv")
        df.to_parquet(p) if p.suffix == ".parquet" else df.to_csv(p, index=False)
        paths.append(p)
    return paths


def test_database_fit_sample_augment(capsys, tmp_path, shop_files):
    model = tmp_path / "shop.tabsynth"
    code, out, err = run(capsys, *["fit", *shop_files, "-o", model, "--seed", "1", "--json"])
    assert code == 0, err
    assert sorted(json.loads(out)["rows_input"]) == ["customers", "orders", "products"]
    code, out, err = run(capsys, "sample", model, "-o", tmp_path / "out", "--scale", "2", "--seed", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rows_synthetic"]["customers"] == 600
    orders = pd.read_parquet(tmp_path / "out" / "orders.parquet")  # each table in its input's format
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert list(orders.columns) == list(shop()["orders"].columns)
    assert orders["customer_id"].dropna().isin(customers["customer_id"]).mean() > 0.95
    code, out, err = run(capsys, "sample", model, "-o", tmp_path / "again", "--scale", "2", "--seed", "3", "-q")
    assert code == 0 and pd.read_parquet(tmp_path / "again" / "orders.parquet").equals(orders)
    code, _, err = run(capsys, *["augment", *shop_files, "--synthetic-only", "-o", tmp_path / "aug", "-q",
                                 "--relation", "orders.customer_id=customers.customer_id",
                                 "--relation", "orders.sku=products.sku"])
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "aug").iterdir()) == ["customers.csv", "orders.parquet", "products.csv"]


@pytest.mark.parametrize("extra, message", [
    (["--relation", "orders.nope=customers.customer_id"], "has no column 'nope'"),
    (["--relation", "orders.customer_id=customers.segment"], "is not a key"),
])
def test_database_bad_relations_exit_2(capsys, tmp_path, shop_files, extra, message):
    out = tmp_path / "m.tabsynth"
    code, _, err = run(capsys, *["fit", *shop_files, "-o", out, *extra])
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists()


def test_augment_several_tables_needs_synthetic_only(capsys, tmp_path, shop_files):
    code, _, err = run(capsys, *["augment", *shop_files, "-o", tmp_path / "x"])
    assert code == 2 and "--synthetic-only" in err


def test_histories_fit_sample(capsys, tmp_path):
    path = tmp_path / "panel.csv"
    panel(150).to_csv(path, index=False)
    model = tmp_path / "p.tabsynth"
    code, _, err = run(capsys, "fit", path, "--entity", "worker", "--order", "year", "-o", model, "-q")
    assert code == 0, err
    code, out, err = run(capsys, "sample", model, "--rows", "40", "-o", tmp_path / "s.csv", "--json")
    assert code == 0, err
    doc = json.loads(out)
    df = pd.read_csv(tmp_path / "s.csv")
    assert doc["entities_synthetic"] == 40 == df["worker"].nunique() and doc["rows_synthetic"] == len(df)
    assert (df.groupby("worker")["sex"].nunique() == 1).all()
    code, _, err = run(capsys, "fit", path, "--entity", "nobody", "-o", tmp_path / "bad.tabsynth")
    assert code == 2 and "nobody" in err
    code, _, err = run(capsys, "fit", path, "--entity", "worker", "--constant", "sex,union", "-o",
                       tmp_path / "bad.tabsynth")
    assert code == 2 and "'union' is declared constant but varies within worker" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "bad.tabsynth").exists()
    code, _, err = run(capsys, "fit", path, "--constant", "sex", "-o", tmp_path / "bad.tabsynth")
    assert code == 2 and "--constant" in err
    code, _, err = run(capsys, "fit", path, "--entity", "worker", "--constant", "sex,school", "-o",
                       tmp_path / "ok.tabsynth", "-q")
    assert code == 0, err
    code, _, err = run(capsys, "sample", model, "-o", tmp_path / "s2.csv", "--given", "sex=F")
    assert code == 2 and "--given" in err


def test_database_keep_reference_table(capsys, tmp_path, shop_files):
    code, out, err = run(capsys, *["augment", *shop_files, "--synthetic-only", "-o", tmp_path / "aug", "-q",
                                   "--keep", "products", "--seed", "2"])
    assert code == 0, err
    assert pd.read_csv(tmp_path / "aug" / "products.csv").equals(pd.read_csv(shop_files[1]))
    code, _, err = run(capsys, *["fit", *shop_files, "-o", tmp_path / "m.tabsynth", "--keep", "orders"])
    assert code == 2 and "must be kept too" in err and err.count("\n") == 1
    assert not (tmp_path / "m.tabsynth").exists()


def test_database_composite_key_relation(capsys, tmp_path):
    from test_database import COMPOSITE, order_lines

    paths = []
    for name, df in order_lines().items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
        paths.append(tmp_path / f"{name}.csv")
    rel = [x for r in COMPOSITE for x in ("--relation", r)]
    code, out, err = run(capsys, *["augment", *paths, "--synthetic-only", "-o", tmp_path / "out", "--json", *rel])
    assert code == 0, err
    lines, ship = (pd.read_csv(tmp_path / "out" / f"{n}.csv") for n in ("lines", "shipments"))
    assert len(ship.merge(lines, on=["order_id", "line_no"])) == len(ship)
    code, _, err = run(capsys, *["fit", *paths, "-o", tmp_path / "m.tabsynth", "--relation",
                                 "shipments.order_id+line_no=lines.order_id"])
    assert code == 2 and "as many columns on each side" in err and err.count("\n") == 1


def test_evaluate_database_directories(capsys, tmp_path, shop_files):
    real_dir = shop_files[0].parent
    code, _, err = run(capsys, *["augment", *shop_files, "--synthetic-only", "-o", tmp_path / "syn", "-q",
                                 "--seed", "4"])
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", "--real", real_dir, "--synthetic", tmp_path / "syn",
                         "--json", tmp_path / "db.json", "--report", tmp_path / "db.html")
    assert code == 0, err
    assert "key violations" in out and "joined-row detection" in out
    doc = json.loads((tmp_path / "db.json").read_text())
    assert doc["key_violations"] == 0 and set(doc["tables"]) == {"customers", "orders", "products"}
    assert abs(doc["joined_detection"] - 0.5) < 0.3 and doc["cardinality"] > 0.8
    assert sorted(doc["relations_used"]) == ["orders.customer_id=customers.customer_id", "orders.sku=products.sku"]
    page = (tmp_path / "db.html").read_text()
    assert page.count("<svg") == 2 and "<script" not in page
    # a table missing from the synthetic directory: one line, exit 2, nothing written
    (tmp_path / "syn" / "products.csv").unlink()
    code, _, err = run(capsys, "evaluate", "--real", real_dir, "--synthetic", tmp_path / "syn",
                       "--json", tmp_path / "x.json")
    assert code == 2 and "no table 'products'" in err and err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()
    code, _, err = run(capsys, "evaluate", "--real", real_dir, "--synthetic", shop_files[0])
    assert code == 2 and "two directories" in err


def test_evaluate_histories(capsys, tmp_path):
    path = tmp_path / "panel.csv"
    panel(150).to_csv(path, index=False)
    code, _, err = run(capsys, "augment", path, "--entity", "worker", "--order", "year", "--synthetic-only",
                       "-o", tmp_path / "s.csv", "-q", "--seed", "1")
    assert code == 0, err
    code, out, err = run(capsys, "evaluate", "--real", path, "--synthetic", tmp_path / "s.csv", "--entity", "worker",
                         "--order", "year", "--json", tmp_path / "e.json")
    assert code == 0, err
    assert "history detection AUC" in out and "order violations" in out
    seq = json.loads((tmp_path / "e.json").read_text())["sequences"]
    assert seq["entity_constant_violations"] == 0 and seq["order_violations"] == 0 and seq["length_shape"] > 0.8
    code, _, err = run(capsys, "evaluate", "--real", path, "--synthetic", tmp_path / "s.csv", "--entity", "nope")
    assert code == 2 and "nope" in err and err.count("\n") == 1


def test_nested_entities_cli(capsys, tmp_path):
    from test_sequences import schools

    path = tmp_path / "schools.csv"
    schools(60).to_csv(path, index=False)
    code, out, err = run(capsys, "augment", path, "--entity", "school,pupil", "--order", "year", "--synthetic-only",
                         "--rows", "12", "-o", tmp_path / "s.csv", "--json", "--seed", "3")
    assert code == 0, err
    assert json.loads(out)["entities_synthetic"] == 12
    syn = pd.read_csv(tmp_path / "s.csv")
    assert syn["school"].nunique() == 12 and (syn.groupby("pupil")["school"].nunique() == 1).all()
    code, out, err = run(capsys, "evaluate", "--real", path, "--synthetic", tmp_path / "s.csv", "--entity",
                         "school,pupil", "--order", "year", "--json", "-")
    assert code == 0, err
    assert json.loads(out)["sequences"]["entity_constant_violations"] == 0


def test_inspect_several_tables_says_which_relations_it_found(capsys, tmp_path, shop_files):
    code, out, err = run(capsys, "inspect", *shop_files)
    assert code == 0, err
    assert "relations found (child.column=parent.key): 2" in out
    assert "orders.customer_id=customers.customer_id" in out and "orders.sku=products.sku" in out
    assert "(table 'orders')" in out
    code, out, err = run(capsys, "inspect", *shop_files, "--json")
    doc = json.loads(out)
    assert sorted(doc["relations"]) == ["orders.customer_id=customers.customer_id", "orders.sku=products.sku"]
    assert sorted(doc["tables"]) == ["customers", "orders", "products"]
    assert {c["name"]: c["kind"] for c in doc["tables"]["customers"]["columns"]}["customer_id"] == "id"
    # two files of one stem: one line, exit 2
    other = tmp_path / "other"
    other.mkdir()
    twin = other / shop_files[0].name
    twin.write_text(shop_files[0].read_text())
    code, out, err = run(capsys, "inspect", shop_files[0], twin)
    assert code == 2 and "two input files are named 'customers'" in err and len(err.strip().splitlines()) == 1


def test_inspect_tables_without_relations_says_how_to_declare_them(capsys, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"x": range(20), "y": list("pq") * 10}).to_csv(a, index=False)
    pd.DataFrame({"u": [1.5, 2.5] * 10}).to_csv(b, index=False)
    code, out, err = run(capsys, "inspect", a, b)
    assert code == 0, err
    assert "relations found (child.column=parent.key): none" in out and "--relation" in out
