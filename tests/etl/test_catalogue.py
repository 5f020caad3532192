"""The catalogue: validation with errors naming entry and field, coverage of the recorded data, targets."""
from __future__ import annotations

import re
import tomllib

import pyarrow as pa
import pytest

from etl.catalogue import (
    CATALOGUE_PATH, THEMES, CatalogueError, assign_indicators, load_catalogue, load_catalogue_file,
)
from etl.model import OBSERVATION_SCHEMA

README_CODE = re.compile(r"\b(isoc_[a-z0-9_]+|tin\d{5})\b")
EU27 = "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()


@pytest.fixture(scope="module")
def catalogue():
    """The shipped catalogue."""
    return load_catalogue()


def test_shipped_catalogue_is_valid_and_large_enough(catalogue):
    assert len(catalogue.indicators) >= 25
    assert all(item.dataset in catalogue.datasets for item in catalogue.indicators)
    assert {item.theme for item in catalogue.indicators} == set(THEMES), "every theme has an indicator"
    assert catalogue.groups.bsr == ("EE", "LV", "LT", "PL", "FI", "SE", "DK", "DE", "NO")
    assert sorted(catalogue.groups.eu27) == EU27
    assert catalogue.groups.reference == "EU27_2020"
    assert catalogue.groups.best_practice == ("NL", "DK")


def test_group_rows_number_each_group_from_one(catalogue):
    rows = catalogue.groups.rows()
    assert {row["group_id"] for row in rows} == {"bsr", "eu27", "reference", "best_practice"}
    assert [row["geo"] for row in rows if row["group_id"] == "bsr"] == list(catalogue.groups.bsr)
    assert [row["position"] for row in rows if row["group_id"] == "bsr"] == list(range(1, 10))
    assert [(row["geo"], row["position"]) for row in rows if row["group_id"] == "reference"] == [("EU27_2020", 1)]


def test_load_is_cached(catalogue):
    assert load_catalogue() is catalogue


def test_every_dataset_the_readme_names_has_an_indicator(catalogue, shared_data):
    # An independent reading: the dataset column of the README tables, not the catalogue's own list.
    rows = [line.split("|") for line in (shared_data / "README.md").read_text("utf-8").splitlines()
            if line.startswith("|") and line.count("|") >= 4]
    named = {code for cells in rows for code in README_CODE.findall(cells[2])}
    assert len(named) >= 14, f"README parse found only {sorted(named)}"
    recorded_indicators = {item.dataset for item in catalogue.indicators if not item.live_only}
    assert named - recorded_indicators == set(), "README datasets without a recorded-data indicator"
    assert "desi" in recorded_indicators


def test_every_recorded_file_maps_to_a_catalogue_dataset(catalogue, shared_data):
    # Eurostat, DESI, scoreboard and eGov files are data the catalogue must know.
    from etl.sources.recorded import RecordedSource
    source = RecordedSource(shared_data, set(catalogue.datasets))
    data_files = [p for folder in ("eurostat", "desi", "scoreboard", "egov") for p in sorted((shared_data / folder).rglob("*"))
                  if p.is_file()]
    assert len(data_files) >= 27
    taken = {p for dataset in source.datasets() for p in source.files_for(dataset)}
    assert [p.name for p in data_files if p not in taken] == [], "recorded data files no catalogue dataset takes"


def test_desi_composite_dimensions_and_named_indicators_are_present(catalogue):
    selections = {item.selection.get("indicator"): item for item in catalogue.indicators if item.dataset == "desi"}
    for code in ("desi", "desi_4b3_sellcb", "desi_5a4_psb", "desi_5a1_egovu"):
        assert code in selections, f"DESI indicator {code} has no catalogue entry"
    dimensions = {item.selection.get("breakdown") for item in catalogue.indicators
                  if item.selection.get("indicator") == "desi_sliders"}
    assert dimensions == {"desi_1_conn", "desi_2_hc", "desi_3_ui", "desi_4_idt", "desi_5_dps"}
    composite = selections["desi"]
    assert (composite.aggregate, composite.parts) == ("sum", 5)


def test_key_live_only_indicators_are_listed(catalogue):
    live_only = {item.dataset for item in catalogue.indicators if item.live_only}
    assert {"isoc_ec_ib20", "isoc_ciegi_ac", "isoc_cicce_use", "isoc_eb_ai", "isoc_ec_eseln2"} <= live_only
    for item in catalogue.indicators:
        if item.live_only:
            assert catalogue.datasets[item.dataset].live_format, f"{item.id} is live-only but not fetchable live"


def test_digital_decade_targets(catalogue):
    targets = {item.id: item.target_2030 for item in catalogue.indicators if item.target_2030 is not None}
    assert targets["basic_digital_skills"] == 80
    assert targets["sme_basic_digital_intensity"] == 90
    assert targets["enterprises_cloud"] == targets["enterprises_ai"] == 75
    assert targets["coverage_5g"] == targets["coverage_vhcn"] == 100
    assert targets["desi_public_services_business"] == 100
    # 20 million ICT specialists is an EU-level count: only on a count indicator, never on a share
    ict = [item for item in catalogue.indicators if item.target_2030 == 20000]
    assert [item.unit for item in ict] == ["thousand persons"]
    assert not any(item.target_2030 is not None and "ict_specialists" in item.id and "%" in item.unit
                   for item in catalogue.indicators)


def test_live_filters_keep_every_selected_code(catalogue):
    for item in catalogue.indicators:
        filters = catalogue.datasets[item.dataset].live_filters
        for key, code in item.selection.items():
            assert code in filters.get(key, [code]), f"{item.id}: {key}={code} filtered out of live downloads"


# ---------------------------------------------------------------- bad entries

def write_variant(tmp_path, change) -> "Path":
    """The shipped catalogue with one change applied, written as TOML."""
    document = tomllib.loads(CATALOGUE_PATH.read_text("utf-8"))
    change(document)
    return write_toml(tmp_path / "catalogue.toml", document)


def write_toml(path, document):
    """A minimal TOML writer for the catalogue's shapes (tables, arrays of tables, inline dicts)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        raise TypeError(v)
    lines = ["[groups]"] + [f"{k} = {value(v)}" for k, v in document.get("groups", {}).items()]
    for code, entry in document.get("datasets", {}).items():
        lines += ["", f"[datasets.{code}]"] + [f"{k} = {value(v)}" for k, v in entry.items()]
    for entry in document.get("indicators", []):
        lines += ["", "[[indicators]]"] + [f"{k} = {value(v)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def indicator(document, indicator_id):
    """One indicator entry of a parsed document."""
    return next(entry for entry in document["indicators"] if entry["id"] == indicator_id)


def test_round_trip_of_the_test_writer(tmp_path):
    path = write_variant(tmp_path, lambda doc: None)
    assert len(load_catalogue_file(path).indicators) == len(load_catalogue().indicators)


BAD_ENTRIES = [
    ("missing field", lambda d: indicator(d, "internet_use").pop("unit"), "internet_use", "'unit'"),
    ("unknown theme", lambda d: indicator(d, "internet_use").update(theme="fun"), "internet_use", "'theme'"),
    ("unknown dataset", lambda d: indicator(d, "internet_use").update(dataset="isoc_nope"), "internet_use", "'dataset'"),
    ("geo in selection", lambda d: indicator(d, "internet_use")["selection"].update(geo="EE"), "internet_use", "selection.geo"),
    ("list in selection", lambda d: indicator(d, "internet_use")["selection"].update(unit=["PC_IND", "PC_HH"]),
     "internet_use", "selection.unit"),
    ("target without label", lambda d: indicator(d, "internet_use").update(target_2030=90.0), "internet_use", "target_2030"),
    ("id not snake_case", lambda d: indicator(d, "internet_use").update(id="Internet-Use"), "Internet-Use", "'id'"),
    ("duplicate id", lambda d: indicator(d, "internet_use").update(id="households_internet_access"),
     "households_internet_access", "'id'"),
    ("bool as number", lambda d: indicator(d, "basic_digital_skills").update(target_2030=True),
     "basic_digital_skills", "'target_2030'"),
    ("unknown field", lambda d: indicator(d, "internet_use").update(colour="red"), "internet_use", "'colour'"),
    ("overlapping selections", lambda d: indicator(d, "households_computer_two_adults")["selection"].update(hhtyp="A1"),
     "households_computer_two_adults", "overlapping"),
    ("bad live_format", lambda d: d["datasets"]["tin00074"].update(live_format="xml"), "datasets.tin00074", "live_format"),
    ("filter hides selection", lambda d: d["datasets"]["isoc_ci_in_h"]["live_filters"].update(hhtyp=["A1"]),
     "households_internet_access", "live_filters"),
    ("aggregate without parts", lambda d: indicator(d, "desi_overall").pop("parts"), "desi_overall", "'parts'"),
    ("population not a population", lambda d: indicator(d, "internet_use").update(population="basic_digital_skills"),
     "internet_use", "'population'"),
    ("undirected without a note", lambda d: indicator(d, "ict_specialists_female").pop("direction_note"),
     "ict_specialists_female", "'direction_note'"),
    ("twin break without a twin", lambda d: indicator(d, "dd_fttp_coverage").update(twin_break=True),
     "dd_fttp_coverage", "'twin_break'"),
    ("group without eu27", lambda d: d["groups"].pop("eu27"), "[groups]", "'eu27'"),
    ("empty group", lambda d: d["groups"].update(bsr=[]), "[groups]", "'bsr'"),
    ("group code not in geo.csv", lambda d: d["groups"]["bsr"].append("XX"), "[groups]", "'bsr': codes ['XX']"),
    ("group code twice", lambda d: d["groups"]["eu27"].append("EE"), "[groups]", "'eu27': codes ['EE'] are listed"),
    ("reference not an aggregate", lambda d: d["groups"].update(reference="EE"), "[groups]", "'reference'"),
    ("reference another aggregate", lambda d: d["groups"].update(reference="EA20"), "[groups]",
     "'reference' must be 'EU27_2020'"),
]


@pytest.mark.parametrize("change,entry,field_name", [case[1:] for case in BAD_ENTRIES],
                         ids=[case[0] for case in BAD_ENTRIES])
def test_bad_entry_error_names_entry_and_field(tmp_path, change, entry, field_name):
    path = write_variant(tmp_path, change)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue_file(path)
    message = str(caught.value)
    assert "catalogue.toml" in message and entry in message and field_name in message, message


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / "catalogue.toml"
    path.write_text("[[indicators]\nid = 'x'\n", "utf-8")
    with pytest.raises(CatalogueError, match="catalogue.toml: not valid TOML"):
        load_catalogue_file(path)


# ---------------------------------------------------------------- assigning indicator ids

def observation_table(rows: list[dict]) -> pa.Table:
    """A tiny synthetic observation table."""
    full = [{"dataset": "isoc_ci_cm_h", "indicator": None, "geo": "EE", "period": "2015", "year": 2015,
             "value": 1.0, "flags": None, "source_updated": None, "retrieved_at": None, "source_file": "x.json",
             **row} for row in rows]
    return pa.Table.from_pylist(full, schema=OBSERVATION_SCHEMA)


def test_assign_indicators_matches_every_selection_key(catalogue):
    table = observation_table([
        {"unit": "PC_HH", "dims": [("indic_is", "H_COMP"), ("hhtyp", "A1")]},
        {"unit": "PC_HH", "dims": [("indic_is", "H_COMP"), ("hhtyp", "A2"), ("freq", "A")]},
        {"unit": "PC_IND", "dims": [("indic_is", "H_COMP"), ("hhtyp", "A1")]},   # wrong unit
        {"unit": "PC_HH", "dims": [("hhtyp", "A1")]},                            # indic_is missing
        {"unit": None, "dims": []},
    ])
    result = assign_indicators(table, catalogue, "isoc_ci_cm_h").column("indicator").to_pylist()
    assert result == ["households_computer_single_adult", "households_computer_two_adults", None, None, None]


def test_assign_indicators_on_an_empty_table(catalogue):
    assert assign_indicators(observation_table([]), catalogue, "isoc_ci_cm_h").num_rows == 0


@pytest.mark.parametrize("filters", [{}, {"chart_group": ["desi", "no-such-group"]}, {"chart_group": ["desi"], "unit": ["PC"]}])
def test_a_scoreboard_dataset_names_known_chart_groups_only(tmp_path, filters):
    def change(document):
        document["datasets"]["digital_decade"]["live_filters"] = filters
    with pytest.raises(CatalogueError, match=r"\[datasets.digital_decade\].*chart_group.csv"):
        load_catalogue(write_variant(tmp_path, change))
