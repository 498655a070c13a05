"""Databases sampled as streams: child tables drawn block by block, written batch by batch."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tabsynth.database as database
from tabsynth.cli import main
from tabsynth.database import DatabaseSynthesizer
from tabsynth.errors import FileFormatError, InputError
from tabsynth.evaluate.database import evaluate_database

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_database import COMPOSITE, order_lines, shop  # noqa: E402


def gathered(db: DatabaseSynthesizer, **kw) -> dict[str, pd.DataFrame]:
    parts: dict[str, list] = {}
    for name, batch in db.sample_batches(**kw):
        parts.setdefault(name, []).append(batch)
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}


def same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return list(a) == list(b) and all(a[k].equals(b[k]) for k in a)


@pytest.fixture(scope="module")
def shop_db():
    tables = shop()
    return tables, DatabaseSynthesizer(random_state=0).fit(tables)


@pytest.fixture(scope="module")
def lines_db():
    tables = order_lines()
    return tables, DatabaseSynthesizer(COMPOSITE, random_state=0).fit(tables)


def test_batches_are_the_sampled_tables(shop_db):
    _, db = shop_db
    out = db.sample(1.5, seed=4)
    tiny = list(db.sample_batches(1.5, seed=4, batch_rows=7))
    assert max(len(b) for _, b in tiny) == 7 and len({n for n, _ in tiny}) == 3
    names = [n for n, _ in tiny]
    assert names == sorted(names, key=names.index)  # each table's batches one after the other
    assert same(gathered(db, scale=1.5, seed=4, batch_rows=7), out)
    assert same(gathered(db, scale=1.5, seed=4, batch_rows=100_000), out)
    assert not same(gathered(db, scale=1.5, seed=5), out)


@pytest.mark.parametrize("block", [300])
def test_small_blocks_keep_every_relation(shop_db, monkeypatch, block):
    """Child rows drawn in blocks much smaller than the table: keys, orphans, second parent, copied columns hold."""
    tables, db = shop_db
    whole = db.sample(2.0, seed=1)
    monkeypatch.setattr(database, "BLOCK_ROWS", block)
    out = db.sample(2.0, seed=1)
    assert same(gathered(db, scale=2.0, seed=1, batch_rows=11), out)  # any batch size, the same rows
    assert same(db.sample(2.0, seed=1), out)
    assert out["customers"].equals(whole["customers"]) and out["products"].equals(whole["products"])
    assert not out["orders"].equals(whole["orders"])  # blocks seeded on their own
    orders, customers, products = out["orders"], out["customers"], out["products"]
    assert len(orders) == len(whole["orders"])  # as many children: counts come from the parent rows
    assert orders["order_id"].is_unique  # a modelled id column stays unique across blocks
    assert orders["sku"].isin(products["sku"]).all()
    real = tables["orders"]["customer_id"]
    real_orphans = (real.notna() & ~real.isin(tables["customers"]["customer_id"])).mean()
    fk = orders["customer_id"]
    orphans = fk[fk.notna() & ~fk.isin(customers["customer_id"])]
    assert abs(len(orphans) / len(orders) - real_orphans) < 0.01 and orphans.is_unique
    assert abs(fk.isna().mean() - real.isna().mean()) < 0.02
    joined = orders.merge(products, on="sku")
    assert (joined["unit_price"] == joined["price"]).all()
    res = evaluate_database(tables, out, db.relations_)
    assert res["key_violations"] == 0
    assert res["relations"]["orders.sku=products.sku"]["cardinality_shape"] >= 0.75  # 40 products: steps of 0.025; unmatched room gave 0.55


@pytest.mark.parametrize("block", [150])
def test_grandchildren_and_composite_keys_in_blocks(lines_db, monkeypatch, block):
    """Lines (a child with children, drawn whole in blocks) and shipments (their child, streamed)."""
    tables, db = lines_db
    monkeypatch.setattr(database, "BLOCK_ROWS", block)
    out = db.sample(seed=2)
    assert same(gathered(db, seed=2, batch_rows=3), out)
    lines, ship = out["lines"], out["shipments"]
    assert not lines.duplicated(["order_id", "line_no"]).any()
    assert (lines.groupby("order_id")["line_no"].rank(method="first") == lines["line_no"]).all()
    assert len(ship.merge(lines, on=["order_id", "line_no"])) == len(ship)
    assert evaluate_database(tables, out, db.relations_)["key_violations"] == 0


def test_parent_with_more_children_than_a_block(monkeypatch):
    """A parent whose children outnumber a block is a block of its own; its children stay together."""
    rng = np.random.default_rng(1)
    big = np.arange(20) < 4
    accounts = pd.DataFrame({"account": np.arange(1, 21), "big": big})
    k = np.where(big, 70, 2)
    events = pd.DataFrame({"account": np.repeat(accounts["account"], k).to_numpy(),
                           "amount": rng.normal(size=int(k.sum())).round(2)})
    db = DatabaseSynthesizer(random_state=0).fit({"accounts": accounts, "events": events})
    monkeypatch.setattr(database, "BLOCK_ROWS", 30)
    out = db.sample(seed=1)
    batches = [b for name, b in db.sample_batches(seed=1, batch_rows=25) if name == "events"]
    assert max(len(b) for b in batches) == 25 and pd.concat(batches, ignore_index=True).equals(out["events"])
    per = out["events"]["account"].value_counts()
    assert per.max() > 30 and out["events"]["account"].isin(out["accounts"]["account"]).all()
    runs = (out["events"]["account"] != out["events"]["account"].shift()).sum()
    assert runs == out["events"]["account"].nunique()  # each parent's children in one run


def test_kept_table_streams(monkeypatch):
    tables = shop()
    db = DatabaseSynthesizer(random_state=0, keep=["products"]).fit(tables)
    monkeypatch.setattr(database, "BLOCK_ROWS", 500)
    out = db.sample(2.0, seed=1)
    assert same(gathered(db, scale=2.0, seed=1, batch_rows=9), out)
    assert out["products"].equals(tables["products"])
    assert out["orders"]["sku"].isin(tables["products"]["sku"]).all()


def test_table_without_relations_streams_as_a_single_table():
    rng = np.random.default_rng(0)
    tables = {**shop(), "notes": pd.DataFrame({"text_len": rng.integers(1, 90, 120), "w": rng.normal(size=120)})}
    db = DatabaseSynthesizer(["orders.customer_id=customers.customer_id", "orders.sku=products.sku"],
                             random_state=0).fit(tables)
    out = db.sample(3.0, seed=1)
    assert len(out["notes"]) == 360 and same(gathered(db, scale=3.0, seed=1, batch_rows=50), out)


def test_sample_batches_bad_input(shop_db):
    _, db = shop_db
    with pytest.raises(InputError, match="batch_rows"):
        db.sample_batches(seed=1, batch_rows=0)
    with pytest.raises(InputError, match="scale"):
        db.sample_batches(-1.0, seed=1)


def run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli_streams_each_format_as_sampled(capsys, tmp_path, monkeypatch, shop_db, suffix):
    tables, db = shop_db
    db.formats_ = {name: suffix for name in tables}
    model = tmp_path / "shop.tabsynth"
    db.save(model)
    monkeypatch.setattr(database, "BLOCK_ROWS", 700)
    code, _, err = run(capsys, "sample", model, "-o", tmp_path / "out", "--scale", "2", "--seed", "3", "-q")
    assert code == 0, err
    expected = DatabaseSynthesizer.load(model).sample(2.0, seed=3)
    for name, df in expected.items():
        path = tmp_path / "out" / f"{name}{suffix}"
        got = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
        want = df if suffix == ".parquet" else pd.read_csv(io.StringIO(df.to_csv(index=False)))
        assert got.equals(want), name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}{suffix}" for n in tables)


def test_cli_failure_midway_leaves_no_file(capsys, tmp_path, monkeypatch, shop_db):
    """A write that fails in the last table: no table appears, no temporary file is left."""
    from tabsynth.io import TableWriter

    tables, db = shop_db
    db.formats_ = {name: ".parquet" for name in tables}
    model = tmp_path / "shop.tabsynth"
    db.save(model)
    monkeypatch.setattr(database, "BLOCK_ROWS", 100)
    write = TableWriter.write
    calls = []

    def failing(self, df):
        calls.append(list(df.columns) == list(tables["orders"].columns))
        if sum(calls) == 2:  # customers and products written, and a batch of orders
            raise FileFormatError(f"cannot write '{self.path}': No space left on device")
        write(self, df)

    monkeypatch.setattr(TableWriter, "write", failing)
    code, _, err = run(capsys, "sample", model, "-o", tmp_path / "out", "--seed", "3", "--batch-rows", "10")
    assert code == 2 and "No space left" in err and len(err.strip().splitlines()) == 1
    assert len(calls) > 30  # customers and products were written in batches of 10 rows
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_synthesizer_sample_start():
    """``start``: rows of a longer stream; with ``given``, regenerated keys numbered from it (unique across parts)."""
    from tabsynth import Synthesizer

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(200), "x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    syn = Synthesizer(random_state=0).fit(df)
    whole = syn.sample(30, seed=1)
    assert syn.sample(10, seed=1, start=20).equals(whole.iloc[20:].reset_index(drop=True))
    given = pd.DataFrame({"c": ["a"] * 5})
    first, second = (syn.sample(5, seed=2, given=given, start=s) for s in (0, 5))
    assert first["id"].tolist() == list(range(200, 205)) and second["id"].tolist() == list(range(205, 210))
    with pytest.raises(InputError, match="start"):
        syn.sample(3, seed=1, start=-1)
