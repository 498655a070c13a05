"""Related tables: a database synthesized with its keys, cardinalities and cross-table relations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tabsynth.database import DatabaseSynthesizer, Relation, infer_relations
from tabsynth.errors import InputError
from tabsynth.evaluate.database import children_per_parent, evaluate_database

HSB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "hsb"


def shop(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Customers, products and orders: two parents, zero-child customers, orphans and missing keys."""
    rng = np.random.default_rng(seed)
    n_c, n_p = 300, 40
    customers = pd.DataFrame({"customer_id": [f"C{100000 + i}" for i in rng.permutation(n_c)],
                              "segment": rng.choice(["retail", "business"], n_c, p=[0.8, 0.2]),
                              "age": rng.integers(18, 80, n_c)})
    products = pd.DataFrame({"sku": np.arange(5000, 5000 + n_p), "price": np.round(rng.lognormal(3, 0.6, n_p), 2),
                             "category": rng.choice(["food", "tools", "toys"], n_p)})
    # business customers order more, and no retail customer under 25 orders at all
    rate = np.where(customers["segment"] == "business", 9.0, 2.0) * (customers["age"] >= 25)
    k = rng.poisson(rate)
    cust = np.repeat(customers["customer_id"].to_numpy(), k)
    prod = rng.integers(0, n_p, len(cust))
    orders = pd.DataFrame({"order_id": np.arange(len(cust)) + 1, "customer_id": cust.astype(object),
                           "sku": products["sku"].to_numpy()[prod],
                           "quantity": 1 + rng.poisson(np.where(np.repeat(customers["segment"], k) == "business", 5, 1)),
                           "unit_price": products["price"].to_numpy()[prod]})
    orders.loc[orders.sample(frac=0.04, random_state=1).index, "customer_id"] = None  # guest orders
    orphan = orders.sample(frac=0.02, random_state=2).index
    orders.loc[orphan, "customer_id"] = [f"C9{i:05d}" for i in range(len(orphan))]  # deleted customers
    return {"customers": customers, "products": products, "orders": orders}


def test_relations_inferred_from_names_and_values():
    found = {str(r) for r in infer_relations(shop())}
    assert found == {"orders.customer_id=customers.customer_id", "orders.sku=products.sku"}


@pytest.mark.skipif(not HSB.exists(), reason="shared datasets not present")
def test_hsb_keys_cardinality_and_copied_column(tmp_path):
    tables = {"schools": pd.read_csv(HSB / "schools.csv"), "students": pd.read_csv(HSB / "students.csv")}
    db = DatabaseSynthesizer(random_state=0).fit(tables)
    assert [str(r) for r in db.relations_] == ["students.School=schools.School"]
    assert db.tables_["students"]["copied"] == {"MEANSES": ["School", "MEANSES"]}
    out = db.sample(seed=1)
    schools, students = out["schools"], out["students"]
    assert list(students.columns) == list(tables["students"].columns)
    assert students.dtypes.equals(tables["students"].dtypes) and schools.dtypes.equals(tables["schools"].dtypes)
    assert schools["School"].is_unique and not schools["School"].isin(tables["schools"]["School"]).any()
    assert students["School"].isin(schools["School"]).all()
    joined = students.merge(schools, on="School", suffixes=("", "_school"))
    assert (joined["MEANSES"] == joined["MEANSES_school"]).all()
    res = evaluate_database(tables, out, db.relations_)
    assert res["key_violations"] == 0 and res["cardinality"] > 0.85
    # same seed, same database; the saved model gives it back
    again = db.sample(seed=1)
    assert all(again[k].equals(out[k]) for k in out)
    db.save(tmp_path / "hsb.tabsynth")
    back = DatabaseSynthesizer.load(tmp_path / "hsb.tabsynth")
    assert all(back.sample(seed=1)[k].equals(out[k]) for k in out)


def test_two_parents_orphans_missing_keys_and_zero_children():
    tables = shop()
    db = DatabaseSynthesizer(random_state=0).fit(tables)
    out = db.sample(seed=3)
    orders, customers, products = out["orders"], out["customers"], out["products"]
    assert orders["order_id"].is_unique and customers["customer_id"].is_unique
    assert orders["sku"].isin(products["sku"]).all()  # the second parent: every key points at a generated row
    # orphans and guest orders at about the real shares, never more than a few points off
    real = tables["orders"]["customer_id"]
    real_orphans = (real.notna() & ~real.isin(tables["customers"]["customer_id"])).mean()
    fk = orders["customer_id"]
    orphans = fk.notna() & ~fk.isin(customers["customer_id"])
    assert abs(orphans.mean() - real_orphans) < 0.015 and abs(fk.isna().mean() - real.isna().mean()) < 0.02
    # new keys in the real format, none of them real
    assert customers["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert not customers["customer_id"].isin(tables["customers"]["customer_id"]).any()
    # customers without orders (the young retail ones) keep their share; children follow the parent's columns
    rel = "orders.customer_id=customers.customer_id"
    zero_real = (children_per_parent(tables, rel) == 0).mean()
    zero_syn = (children_per_parent(out, rel) == 0).mean()
    assert abs(zero_real - zero_syn) < 0.1
    per = customers.assign(n=children_per_parent(out, rel)).groupby("segment")["n"].mean()
    assert per["business"] > 2.5 * per["retail"]
    res = evaluate_database(tables, out, db.relations_)
    assert res["key_violations"] == 0
    # the second parent: each product gets about its share of orders; an order's unit price is its product's
    assert res["relations"]["orders.sku=products.sku"]["cardinality_shape"] > 0.8
    joined = orders.merge(products, on="sku")
    assert (joined["unit_price"] == joined["price"]).all()


def test_declared_relation_and_scale():
    tables = shop()
    tables["orders"] = tables["orders"].rename(columns={"customer_id": "buyer"})
    assert "orders.buyer=customers.customer_id" not in {str(r) for r in infer_relations(tables)}
    db = DatabaseSynthesizer(["orders.buyer=customers.customer_id", "orders.sku=products.sku"],
                             random_state=0).fit(tables)
    out = db.sample(scale=2.0, seed=1)
    assert len(out["customers"]) == 2 * len(tables["customers"]) and len(out["products"]) == 80
    assert 1.5 < len(out["orders"]) / len(tables["orders"]) < 2.5


@pytest.mark.parametrize("relation, message", [
    ("orders.customer_id=clients.customer_id", "no table named 'clients'"),
    ("orders.client=customers.customer_id", "has no column 'client'"),
    ("orders.customer_id=customers.segment", "is not a key"),
    ("orders.quantity=customers.customer_id", "a foreign key must have its key's type"),
    ("orders customer_id", "is not of the form"),
])
def test_bad_relations_one_line(relation, message):
    with pytest.raises(InputError, match=message):
        DatabaseSynthesizer([relation]).fit(shop())


def test_cycle_refused():
    a = pd.DataFrame({"id": [1, 2, 3], "b_id": [10, 11, 12]})
    b = pd.DataFrame({"id": [10, 11, 12], "a_id": [1, 2, 3]})
    with pytest.raises(InputError, match="cycle"):
        DatabaseSynthesizer(["a.b_id=b.id", "b.a_id=a.id"]).fit({"a": a, "b": b})


def test_relation_parse():
    assert Relation.parse(" flights.tailnum = planes.tailnum ") == Relation("flights", "tailnum", "planes", "tailnum")
    assert Relation.parse("flights.origin+hour=weather.origin+hour") == Relation("flights", "origin+hour", "weather",
                                                                                 "origin+hour")
    with pytest.raises(InputError, match="as many columns on each side"):
        Relation.parse("flights.origin+hour=weather.origin")


def test_docstring_examples():
    import doctest

    import tabsynth.database
    import tabsynth.evaluate.database

    assert doctest.testmod(tabsynth.database).failed == 0
    assert doctest.testmod(tabsynth.evaluate.database).failed == 0


def test_single_table_keys_unique_across_blocks_and_batches():
    """Regenerated keys are numbered by row position: unique past a sampling block (16,384 rows)."""
    from tabsynth import Synthesizer

    df = pd.DataFrame({"id": np.arange(500), "x": np.random.default_rng(0).normal(size=500),
                       "code": [f"k{i}" for i in range(500)]})
    syn = Synthesizer(random_state=0).fit(df)
    out = syn.sample(70_000, seed=1)
    assert out["id"].is_unique and out["code"].is_unique and out["id"].min() == 500
    assert pd.concat(list(syn.sample_batches(70_000, batch_size=9_999, seed=1)), ignore_index=True).equals(out)


def test_kept_reference_table_is_released_as_it_is(tmp_path):
    tables = shop()
    db = DatabaseSynthesizer(random_state=0, keep=["products"]).fit(tables)
    out = db.sample(seed=1)
    assert out["products"].equals(tables["products"])            # real rows and keys, verbatim
    assert out["orders"]["sku"].isin(tables["products"]["sku"]).all()
    assert not out["customers"]["customer_id"].isin(tables["customers"]["customer_id"]).any()  # not kept: new keys
    assert evaluate_database(tables, out, db.relations_)["key_violations"] == 0
    # each product keeps about its real share of orders; a unit price is still its product's price
    joined = out["orders"].merge(out["products"], on="sku")
    assert (joined["unit_price"] == joined["price"]).all()
    real_share = tables["orders"]["sku"].value_counts(normalize=True)
    syn_share = out["orders"]["sku"].value_counts(normalize=True).reindex(real_share.index, fill_value=0)
    assert (real_share - syn_share).abs().max() < 0.05
    # scale: the kept table keeps its rows, its children follow the scale
    twice = db.sample(2.0, seed=1)
    assert twice["products"].equals(tables["products"]) and len(twice["orders"]) > 1.7 * len(out["orders"])
    db.save(tmp_path / "m.tabsynth")
    back = DatabaseSynthesizer.load(tmp_path / "m.tabsynth")
    assert all(back.sample(seed=1)[k].equals(out[k]) for k in out)


@pytest.mark.parametrize("keep, message", [(["nope"], "no table named 'nope'"),
                                           (["orders"], "its parent 'customers' must be kept too")])
def test_keep_bad_tables(keep, message):
    with pytest.raises(InputError, match=message):
        DatabaseSynthesizer(keep=keep).fit(shop())


def order_lines(seed: int = 0) -> dict[str, pd.DataFrame]:
    """Orders, their lines keyed by (order_id, line_no) numbered 1..k, and shipments of lines (a composite key)."""
    rng = np.random.default_rng(seed)
    n = 300
    orders = pd.DataFrame({"order_id": np.arange(1000, 1000 + n), "channel": rng.choice(["web", "shop"], n, p=[0.7, 0.3])})
    k = np.where(orders["channel"] == "web", rng.integers(1, 6, n), rng.integers(1, 3, n))
    lines = pd.DataFrame({"order_id": np.repeat(orders["order_id"], k).to_numpy(),
                          "line_no": np.concatenate([np.arange(1, j + 1) for j in k])})
    lines["qty"] = rng.integers(1, 10, len(lines))
    ship = lines.sample(frac=0.6, random_state=seed)[["order_id", "line_no"]].reset_index(drop=True)
    ship["carrier"] = rng.choice(["DHL", "UPS"], len(ship))
    return {"orders": orders, "lines": lines, "shipments": ship}


COMPOSITE = ["lines.order_id=orders.order_id", "shipments.order_id+line_no=lines.order_id+line_no"]


def test_composite_keys(tmp_path):
    tables = order_lines()
    db = DatabaseSynthesizer(COMPOSITE, random_state=0).fit(tables)
    out = db.sample(seed=1)
    lines, ship = out["lines"], out["shipments"]
    assert not lines.duplicated(["order_id", "line_no"]).any()       # the composite key is unique
    assert lines["order_id"].isin(out["orders"]["order_id"]).all()
    # line numbers run 1..k within each order, as in the real lines
    assert (lines.groupby("order_id")["line_no"].rank(method="first") == lines["line_no"]).all()
    # every shipment points at a generated line by both parts
    assert len(ship.merge(lines, on=["order_id", "line_no"])) == len(ship)
    assert not ship.duplicated(["order_id", "line_no"]).any() or tables["shipments"].duplicated(
        ["order_id", "line_no"]).any()
    res = evaluate_database(tables, out, db.relations_)
    assert res["key_violations"] == 0 and res["cardinality"] > 0.8
    assert list(ship.columns) == list(tables["shipments"].columns) and ship["line_no"].dtype == np.int64
    db.save(tmp_path / "m.tabsynth")
    assert all(DatabaseSynthesizer.load(tmp_path / "m.tabsynth").sample(seed=1)[k].equals(out[k]) for k in out)


@pytest.mark.parametrize("relation, message", [
    ("shipments.order_id+line_no=lines.order_id", "as many columns on each side"),
    ("shipments.order_id+nope=lines.order_id+line_no", "has no column 'nope'"),
    ("shipments.order_id+carrier=lines.order_id+line_no", "a foreign key must have its key's type"),
    ("shipments.order_id+line_no=lines.order_id+qty", "is not a key"),
])
def test_composite_keys_bad_input(relation, message):
    with pytest.raises(InputError, match=message):
        DatabaseSynthesizer(["lines.order_id=orders.order_id", relation]).fit(order_lines())


def test_joined_detection_verdict_is_symmetric_about_a_half():
    from tabsynth.evaluate.database_report import _verdict

    # a detector fooled systematically (AUC 0.34) is as far from indistinguishable as one at 0.66
    assert _verdict(0.5, higher_better=False) == "good"
    assert _verdict(0.344, higher_better=False) == _verdict(0.656, higher_better=False) == "good"
    assert _verdict(0.25, higher_better=False) == _verdict(0.75, higher_better=False) == "fair"
    assert _verdict(0.05, higher_better=False) == _verdict(0.95, higher_better=False) == "poor"


def test_detection_leaves_out_what_identifies_another_parent():
    from tabsynth.evaluate.database import copied, other_parents

    tables = shop()
    rels = ["orders.customer_id=customers.customer_id", "orders.sku=products.sku"]
    assert copied(tables, rels[1]) == ["unit_price"]  # each order's price is its product's
    assert copied(tables, rels[0]) == []
    assert other_parents(tables, rels, rels[0]) == ("sku", "unit_price")
    assert other_parents(tables, rels, rels[1]) == ("customer_id",)


def test_table_models_skip_the_work_only_other_draws_need():
    """Every table is drawn alone or given its parent's columns (first in its chain): trees fit no sweeps' trees."""
    db = DatabaseSynthesizer(random_state=0).fit(shop())
    assert {name: m.backend_.gibbs_sweeps for name, m in db.models_.items()} == dict.fromkeys(db.models_, 0)
    assert all(t is None for m in db.models_.values() for t in m.backend_.full_)
    kept = DatabaseSynthesizer(random_state=0, gibbs_sweeps=2).fit(shop())  # the caller's choice wins
    assert {m.backend_.gibbs_sweeps for m in kept.models_.values()} == {2}
    assert DatabaseSynthesizer(backend="gmm", random_state=0, max_iter=5).fit(shop()).models_["orders"].backend_
