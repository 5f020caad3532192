"""Code lists: shape of the shipped CSVs, label <-> code lookups, the geo table."""
from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from etl import codelists

REPO = Path(__file__).resolve().parents[2]
JSONSTAT_DIR = REPO / ".." / "shared" / "data" / "eurostat" / "jsonstat"
EU27 = "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()


@pytest.fixture
def own_codelists(tmp_path, monkeypatch):
    """Point the module at an empty temporary code list folder; the shipped lists come back afterwards."""
    monkeypatch.setattr(codelists, "CODELIST_DIR", tmp_path)
    codelists.reload()
    yield tmp_path
    monkeypatch.undo()
    codelists.reload()


def write_csv(folder: Path, name: str, rows: list[list[str]]) -> None:
    """A code list file with the given rows (header included)."""
    with (folder / name).open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_every_shipped_file_has_the_shape_and_no_ambiguous_label():
    files = sorted(codelists.CODELIST_DIR.glob("*.csv"))
    assert {"geo", "unit", "indic_is", "size_emp", "nace_r2", "ind_type", "inet_tec", "terrtypo", "freq", "hhtyp"} <= {f.stem for f in files}
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0][:3] == ["dimension", "code", "label"], path.name
        assert all(len(r) == len(rows[0]) and r[0] == path.stem for r in rows[1:]), path.name
        by_label: dict[str, set[str]] = {}
        for r in rows[1:]:
            by_label.setdefault(" ".join(r[2].split()), set()).add(r[1])
        assert all(len(codes) == 1 for codes in by_label.values()), path.name
        assert codelists.label_to_code(path.stem) == {label: codes.pop() for label, codes in by_label.items()}


def test_labels_map_to_their_official_codes():
    assert codelists.label_to_code("geo")["Estonia"] == "EE"
    assert codelists.label_to_code("geo")["Greece"] == "EL"
    assert codelists.label_to_code("geo")["United Kingdom"] == "UK"
    assert codelists.label_to_code("geo")["European Union - 27 countries (from 2020)"] == "EU27_2020"
    assert codelists.label_to_code("unit")["Percentage of individuals"] == "PC_IND"
    assert codelists.label_to_code("freq")["Annual"] == "A"
    assert codelists.code_for_label("geo", "  Estonia \t") == "EE"
    assert codelists.code_for_label("geo", "Estland") is None
    assert codelists.codelist("geo")["EL"] == "Greece"
    # an older Eurostat label still maps, but the current one is what codelist() shows
    assert codelists.code_for_label("geo", "Turkey") == codelists.code_for_label("geo", "Türkiye") == "TR"
    assert codelists.codelist("geo")["TR"] == "Türkiye"
    assert codelists.dimension_ids()["Individual type"] == "ind_type"


def test_jsonstat_labels_all_map_back_to_their_codes():
    files = sorted(JSONSTAT_DIR.glob("*.json*"))
    if not files:
        pytest.skip("recorded JSON-stat files not available")
    checked = 0
    for path in files:
        raw = path.read_bytes()
        body = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        for dimension in body["id"]:
            if dimension == "time":
                continue
            for code, label in body["dimension"][dimension]["category"].get("label", {}).items():
                assert codelists.code_for_label(dimension, label) == code, (path.name, dimension, label)
                checked += 1
    assert checked > 100


def test_geo_table_has_aggregates_and_iso3():
    table = codelists.geo_table()
    # group membership (EU27, BSR) is the catalogue's [groups], not a code list column
    assert list(table.columns) == ["code", "name", "is_aggregate", "iso3"]
    assert table["code"].is_unique
    countries = table[~table["is_aggregate"]]
    assert set(EU27) <= set(countries["code"])
    assert countries["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert countries["iso3"].is_unique
    iso3 = dict(zip(table["code"], table["iso3"]))
    assert (iso3["EL"], iso3["UK"], iso3["XK"], iso3["DE"], iso3["NO"]) == ("GRC", "GBR", "XKX", "DEU", "NOR")
    aggregates = table[table["is_aggregate"]]
    assert {"EU27_2020", "EU28", "EU27_2007", "EU15", "EA"} <= set(aggregates["code"])
    assert aggregates["iso3"].isna().all()
    assert {"NO", "IS", "CH", "LI", "UK", "ME", "MK", "AL", "RS", "TR", "BA", "XK", "UA", "MD"} <= set(countries["code"])
    table.loc[0, "name"] = "changed"
    assert codelists.geo_table().loc[0, "name"] != "changed"   # callers get a copy


def test_a_label_naming_two_codes_is_refused(own_codelists):
    write_csv(own_codelists, "unit.csv", [["dimension", "code", "label"], ["unit", "PC_A", "Percent"], ["unit", "PC_B", " Percent "]])
    with pytest.raises(codelists.CodelistError, match="'Percent' maps to both 'PC_A' and 'PC_B'"):
        codelists.label_to_code("unit")


def test_malformed_files_are_refused(own_codelists):
    write_csv(own_codelists, "freq.csv", [["dimension", "code", "label"], ["freq", "A", "Annual", "extra"]])
    with pytest.raises(codelists.CodelistError, match="freq.csv: line 2: wrong number of columns"):
        codelists.codelist("freq")
    write_csv(own_codelists, "unit.csv", [["dimension", "code", "label"], ["geo", "PC", "Percent"]])
    with pytest.raises(codelists.CodelistError, match="unit.csv: line 2"):
        codelists.codelist("unit")
    with pytest.raises(codelists.CodelistError, match="no code list for dimension 'nothing'"):
        codelists.codelist("nothing")


def test_code_lists_are_not_read_at_import_time():
    script = "import etl.codelists as c; assert c._rows.cache_info().currsize == 0; c.codelist('geo'); assert c._rows.cache_info().currsize == 1"
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)
