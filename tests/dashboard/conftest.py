"""Dashboard test fixtures: a data dir built by the real ETL from ../shared/data when the ETL provides one,
otherwise a stand-in DuckDB of the same contract (docs/design.md) built from small synthetic data."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.dashboard import ANNUAL_VALUES_SQL

# Synthetic indicators of the stand-in: clearly made up, deterministic (seeded), with every kind of flag.
STANDIN_INDICATORS = [
    # id, title, dataset, unit, higher_is_better, headline, target_2030
    ("synthetic_access", "Synthetic households online", "isoc_synth_a", "PC_HH", True, True, 100.0),
    ("synthetic_skills", "Synthetic basic skills", "isoc_synth_b", "PC_IND", True, True, 80.0),
    ("synthetic_offline", "Synthetic never online", "isoc_synth_c", "PC_IND", False, True, None),
    ("synthetic_empty", "Synthetic live-only series", "isoc_synth_d", "PC_ENT", True, False, None),
]
STANDIN_YEARS = range(2014, 2025)


def standin_values(geo: pd.DataFrame) -> pd.DataFrame:
    """Deterministic made-up indicator values with flags b/e/p/u/bu and a few missing cells."""
    rng = np.random.default_rng(20261127)
    codes = [c for c in geo["code"] if c in set(geo.loc[geo["is_eu27"] | geo["is_bsr"], "code"])] + ["EU27_2020", "IS"]
    rows = []
    for ind, _title, dataset, unit, higher, _headline, _target in STANDIN_INDICATORS[:3]:
        for code in codes:
            level = rng.uniform(30, 90)
            slope = rng.uniform(0.5, 3.0) * (1 if higher else -1)
            for year in STANDIN_YEARS:
                value = round(float(np.clip(level + slope * (year - 2014), 1, 99)), 1)
                flags = None
                if (code, year) in {("EE", 2019), ("DE", 2021), ("FR", 2020)}:
                    flags = "b"
                elif (code, year) in {("LV", 2024), ("PL", 2023)}:
                    flags = "p"
                elif (code, year) in {("LT", 2022), ("IS", 2024)}:
                    flags = "e"
                elif (code, year) in {("MT", 2018), ("NO", 2020)}:
                    flags = "u"
                elif (code, year) == ("SE", 2016):
                    flags = "bu"
                if (code, year) in {("NO", 2024), ("CY", 2017), ("LU", 2024)}:
                    value = None if (code, year) != ("LU", 2024) else value
                    if value is None:
                        flags = flags or None
                if value is None and flags is None:
                    continue  # ':' with no flag is no row at all
                rows.append({"indicator": ind, "geo": code, "period": str(year), "year": year, "value": value,
                             "flags": flags, "unit": unit, "dataset": dataset,
                             "source_updated": "2025-04-08T11:00:00+0200",
                             "retrieved_at": pd.Timestamp("2025-10-29 10:00", tz="UTC"),
                             "source_file": f"{dataset}.json"})
    # one flag-only cell, a year before the others: confidential, no value
    rows.append({**rows[0], "geo": "HU", "period": "2013", "year": 2013, "value": None, "flags": "c"})
    return pd.DataFrame(rows)


def standin_geo() -> pd.DataFrame:
    """The geo table as the ETL publishes it: the code list with is_eu27 and is_bsr from the catalogue's groups."""
    from etl.catalogue import load_catalogue
    from etl.codelists import geo_table

    geo, groups = geo_table(), load_catalogue().groups
    geo.insert(2, "is_eu27", geo["code"].isin(groups.eu27))
    geo.insert(3, "is_bsr", geo["code"].isin(groups.bsr))
    return geo


def build_standin(data_dir: Path) -> Path:
    """Write data_dir/dsm.duckdb with the database contract's tables and views from synthetic data."""
    import duckdb

    from etl.catalogue import load_catalogue

    data_dir.mkdir(parents=True, exist_ok=True)
    geo = standin_geo()
    values = standin_values(geo)
    groups = pd.DataFrame(load_catalogue().groups.rows())
    catalogue = pd.DataFrame([
        {"id": i, "title": t, "description": f"{t} (synthetic test data)", "dataset": d, "source_format": "jsonstat",
         "selection": json.dumps({"unit": u}), "unit": u, "higher_is_better": h, "theme": "synthetic",
         "target_2030": tgt, "target_label": (f"Synthetic 2030 target {tgt:g}" if tgt else None), "headline": hl,
         "live_only": i == "synthetic_empty"}
        for i, t, d, u, h, hl, tgt in STANDIN_INDICATORS
    ])
    provenance = pd.DataFrame([{"dataset": d, "file": f"{d}.json", "url": f"https://example.invalid/{d}",
                                "sha256": "0" * 64, "bytes": 1, "source_updated": "2025-04-08T11:00:00+0200",
                                "retrieved_at": pd.Timestamp("2025-10-29 10:00", tz="UTC"), "rows": 1,
                                "format": "jsonstat"} for _, _, d, *_ in STANDIN_INDICATORS])
    runs = pd.DataFrame([{"run_id": "standin", "started_at": pd.Timestamp("2025-10-29 10:00", tz="UTC"),
                          "finished_at": pd.Timestamp("2025-10-29 10:01", tz="UTC"), "status": "ok",
                          "message": "synthetic stand-in", "datasets_loaded": 3, "datasets_missing": 1}])
    path = data_dir / "dsm.duckdb"
    tmp = data_dir / "dsm.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    for name, frame in {"catalogue": catalogue, "geo": geo, "country_groups": groups, "provenance": provenance,
                        "refresh_runs": runs, "standin_values": values}.items():
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.execute("CREATE TABLE labels (dimension VARCHAR, code VARCHAR, label VARCHAR)")
    con.execute("CREATE VIEW indicator_values AS SELECT indicator, geo, period, CAST(year AS SMALLINT) AS year, value, "
                "flags, unit, dataset, source_updated, retrieved_at, source_file FROM standin_values")
    con.execute(ANNUAL_VALUES_SQL.read_text(encoding="utf-8"))  # the ETL's own annual pick over the stand-in values
    con.execute("CREATE VIEW observations AS SELECT dataset, indicator, geo, period, year, unit, value, flags, "
                "source_updated, retrieved_at, source_file FROM standin_values")
    con.close()
    tmp.replace(path)
    return data_dir


def with_population(data_dir: Path, counts: dict[tuple[str, int], float | None], population: str = "population",
                    weighted: str = "synthetic_access") -> Path:
    """Add a population indicator (theme-less counts, NR) with counts[(geo, year)] to a stand-in database and name
    it as the `weighted` indicator's population, so its BSR average is population-weighted where counts allow."""
    import duckdb

    con = duckdb.connect(str(data_dir / "dsm.duckdb"))
    con.execute("ALTER TABLE catalogue ADD COLUMN population VARCHAR")
    con.execute("INSERT INTO catalogue (id, title, dataset, unit, higher_is_better, headline, live_only) "
                "VALUES (?, 'Population', 'demo_pjan', 'NR', true, false, false)", [population])
    con.execute("UPDATE catalogue SET population = ? WHERE id = ?", [population, weighted])
    con.executemany("INSERT INTO standin_values (indicator, geo, period, year, value, unit, dataset) "
                    "VALUES (?, ?, ?, ?, ?, 'NR', 'demo_pjan')",
                    [[population, geo, str(year), year, count] for (geo, year), count in counts.items()])
    con.close()
    return data_dir


def _real_data_dir(request) -> Path | None:
    """The ETL's built data dir (tests/conftest.py `built_data_dir`) when that fixture exists.

    DSM_DASHBOARD_STANDIN=1 forces the synthetic stand-in (dashboard work while the ETL is being changed).
    A failing ETL build is not hidden: its error fails the tests that need it.
    """
    if os.environ.get("DSM_DASHBOARD_STANDIN") == "1":
        return None
    try:
        return Path(request.getfixturevalue("built_data_dir"))
    except pytest.FixtureLookupError:
        return None


@pytest.fixture(scope="session")
def dashboard_data_dir(request, tmp_path_factory) -> Path:
    """A data dir with dsm.duckdb: the real ETL's build of ../shared/data, else the synthetic stand-in."""
    real = _real_data_dir(request)
    if real is not None and (real / "dsm.duckdb").exists():
        return real
    return build_standin(tmp_path_factory.mktemp("standin_data"))


@pytest.fixture(scope="session")
def is_standin(dashboard_data_dir) -> bool:
    """True when the tests run against the synthetic stand-in rather than the ETL's real build."""
    return dashboard_data_dir.name.startswith("standin_data")


@pytest.fixture
def dsm_env(dashboard_data_dir, monkeypatch):
    """Point the dashboard at the test data dir (DSM_DATA_DIR) with an empty query cache."""
    from dashboard.data import connection

    monkeypatch.setenv("DSM_DATA_DIR", str(dashboard_data_dir))
    connection.clear_cache()
    yield dashboard_data_dir
    connection.clear_cache()


@pytest.fixture(scope="session")
def app():
    """The module-level Dash app, as gunicorn imports it (importing it registers the pages and their callbacks)."""
    from dashboard.app import app as dash_app

    return dash_app
