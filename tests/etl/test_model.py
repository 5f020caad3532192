"""The observation schema's own helpers: year parsing and the dims MAP column."""
import pandas as pd
import pyarrow as pa

from etl.model import DIMS_TYPE, Decoded, finalize, year_array, dims_array


def test_year_is_the_leading_four_digits_or_null():
    periods = pa.array(["2023", "2023-Q1", "2023M04", "abcd", "20", ""])
    assert year_array(periods).to_pylist() == [2023, 2023, 2023, None, None, None]


def test_dims_array_matches_a_row_by_row_build_for_shared_and_ragged_keys():
    shared = pd.Series([{"freq": "A", "indic_is": f"I{i}"} for i in range(5)])
    ragged = pd.Series([{"freq": "A"}, {}, {"freq": "A", "hhtyp": "TOTAL"}])
    series = {"freq": "A", "indic_is": "I1"}    # one dict object for the rows of a series, as the decoders give
    objects = pd.Series([series, {"freq": "A", "indic_is": "I1"}, None, series, {"freq": "Q"}, None], dtype=object)
    for dims in (shared, ragged, objects):
        expected = pa.array([list(d.items()) if d else [] for d in dims], type=DIMS_TYPE)
        assert dims_array(dims).equals(expected)


def test_finalize_keeps_flags_and_missing_and_repeats_provenance():
    obs = pd.DataFrame({
        "dataset": ["toy"] * 3, "geo": ["EE", "LV", "LT"], "period": ["2023"] * 3, "unit": ["PC"] * 3,
        "dims": [{"freq": "A"}] * 3, "value": [1.5, None, 0.0], "flags": [None, "c", "bu"],
    })
    table = finalize(Decoded("toy", obs, source_updated="2024-01-01"),
                     retrieved_at=pd.Timestamp("2026-01-02T03:04:05Z"), source_file="toy.tsv")
    rows = table.to_pylist()
    assert [r["value"] for r in rows] == [1.5, None, 0.0]
    assert [r["flags"] for r in rows] == [None, "c", "bu"]
    assert {r["source_file"] for r in rows} == {"toy.tsv"} and {r["source_updated"] for r in rows} == {"2024-01-01"}
    assert {r["retrieved_at"].isoformat() for r in rows} == {"2026-01-02T03:04:05+00:00"}


def test_finalize_reads_categorical_text_as_it_reads_str():
    """A decoder may give its text columns as categoricals (etl.formats.coded_column): the table is the same."""
    text = pd.DataFrame({
        "dataset": ["toy"] * 4, "geo": ["LV", "EE", "LV", "LT"], "period": ["2023", "2022", "2023", "2021"],
        "unit": ["PC", None, "PC", "NR"], "dims": [{"freq": "A"}] * 4, "value": [1.0, 2.0, None, 4.0],
        "flags": [None, None, "c", None],
    })
    coded = text.astype({"dataset": "category", "geo": "category", "period": "category", "unit": "category"})
    tables = [finalize(Decoded("toy", obs), retrieved_at=pd.Timestamp("2026-01-02T03:04:05Z"), source_file="toy.tsv")
              for obs in (text, coded)]
    assert tables[1].equals(tables[0])
    assert tables[1].column("unit").to_pylist() == ["PC", None, "PC", "NR"]
