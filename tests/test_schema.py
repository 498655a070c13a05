import json

import numpy as np
import pandas as pd
import pytest

from tabsynth.errors import InputError
from tabsynth.schema import TableSchema, infer_schema


def test_kinds_of_mixed_table(mixed):
    schema = infer_schema(mixed)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "f": "numeric", "i": "integer", "ni": "integer", "b": "boolean", "nb": "boolean", "s": "categorical",
        "cat": "categorical", "ps": "categorical", "d": "datetime", "dtz": "datetime", "const": "constant",
    }
    assert schema["f"].nullable and 0.05 < schema["f"].missing_rate < 0.3
    assert not schema["i"].nullable
    assert schema["cat"].categories == ["a", "b", "c", "d"]
    assert schema["dtz"].tz == "Europe/Paris"
    assert schema["d"].step == "D"
    assert abs(sum(schema["s"].frequencies) - 1) < 1e-9


def test_ids_text_and_low_cardinality_integers():
    n = 600
    df = pd.DataFrame({
        "key": np.arange(100, 100 + n),
        "code": [f"user-{i:05d}" for i in range(n)],
        "note": [f"comment {i % 550}" for i in range(n)],
        "rating": np.arange(n) % 5,
        "amount": np.linspace(0, 1, n),
    })
    kinds = {c.name: c.kind for c in infer_schema(df).columns}
    assert kinds == {"key": "id", "code": "id", "note": "text", "rating": "categorical", "amount": "numeric"}
    assert infer_schema(df)["code"].id_prefix == "user-"


def test_overrides():
    df = pd.DataFrame({"a": np.arange(50) % 20, "b": np.linspace(0, 1, 50), "c": list("xy") * 25})
    schema = infer_schema(df, categorical=["a"], ignore=["c"])
    assert schema.names == ["a", "b"]
    assert schema["a"].kind == "categorical"
    with pytest.raises(InputError, match="'nope'"):
        infer_schema(df, ignore=["nope"])
    with pytest.raises(InputError, match="^categorical: unknown column"):
        infer_schema(df, categorical="zzz")


def test_json_round_trip(mixed):
    schema = infer_schema(mixed)
    text = schema.to_json()
    back = TableSchema.from_json(text)
    assert back == schema
    json.loads(text)  # plain JSON


@pytest.mark.parametrize(
    "df, match",
    [
        (pd.DataFrame(), "no columns"),
        (pd.DataFrame({"a": []}), "no rows"),
        (pd.DataFrame({"a": [1, 2], "b": [None, None]}), "column 'b' has no values"),
        (pd.DataFrame({"a": [1.0, np.inf]}), "infinite"),
        (pd.DataFrame({"a": pd.to_timedelta([1, 2], unit="s")}), "not supported"),
        (pd.DataFrame({"a": [[1], [2]]}), "list values"),
    ],
)
def test_bad_tables(df, match):
    with pytest.raises(InputError, match=match):
        infer_schema(df)


def test_schema_frame_lists_every_column(mixed):
    frame = infer_schema(mixed).to_frame()
    assert frame["column"].tolist() == list(mixed.columns)
