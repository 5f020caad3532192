"""eGovernment Benchmark CSVs: every score against a csv-module read, and bad input refused naming file and place."""
from __future__ import annotations

import csv
import io

import pytest

from etl.formats import egov_csv
from etl.model import DecodeError

FILES = ["egov/egov_benchmark_2022data.csv", "egov/egov_benchmark_2023data.csv"]
HEADER = "\ufeffCountry,O_Av_Citiz,O_Av_Bus,Mob_F,U_Supp,Transparency,CB_O_Av_Citiz,CB_O_Av_Bus,CB_U_Supp\n"


@pytest.mark.parametrize("name", FILES)
def test_every_score_is_one_row_equal_to_the_file(shared_data, name):
    path = shared_data / name
    table = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    obs = egov_csv.decode(path.read_bytes(), path.name).observations
    got = {(r.geo, r.dims["measure"]): r.value for r in obs.itertuples()}
    expected = {(row["Country"], m): float(v) for row in table for m, v in row.items() if m != "Country"}
    assert got == expected and len(obs) == 27 * 8
    assert set(obs["period"]) == {name[-12:-8]} and set(d["compilation"] for d in obs["dims"]) == {"secondary"}
    assert obs["flags"].isna().all()


@pytest.mark.parametrize("body, where, reason", [
    (HEADER.replace(",CB_O_Av_Bus", "") + "EE,1,2,3,4,5,6,7\n", "line 1", "lacks ['CB_O_Av_Bus']"),
    (HEADER + "EE,94.5,100,96.7,95.2,86.7,93.6,high,100\n", "line 2, column CB_O_Av_Bus", "high"),
    (HEADER + "EE,94.5,100,96.7,95.2,86.7,93.6,197.5,100\n", "line 2, column CB_O_Av_Bus", "outside 0-100"),
    (HEADER + "XX,94.5,100,96.7,95.2,86.7,93.6,97.5,100\n", "line 2, column Country", "unknown country"),
    (HEADER + "EE,94.5,100,96.7,95.2,86.7,93.6,97.5\n", "line 2", "8 cells"),
    (HEADER + "EE,1,1,1,1,1,1,1,1\nEE,2,2,2,2,2,2,2,2\n", "line 3", "repeated"),
])
def test_bad_input_is_refused_naming_file_and_place(body, where, reason):
    with pytest.raises(DecodeError) as caught:
        egov_csv.decode(body.encode(), "egov_benchmark_2023data.csv")
    assert (caught.value.source, caught.value.where) == ("egov_benchmark_2023data.csv", where)
    assert reason in caught.value.reason


def test_an_empty_score_is_missing_not_zero_and_the_year_comes_from_the_name():
    obs = egov_csv.decode((HEADER + "EE,94.5,,96.7,95.2,86.7,93.6,97.5,100\n").encode(), "egov_benchmark_2023data.csv").observations
    assert len(obs) == 7 and "O_Av_Bus" not in {d["measure"] for d in obs["dims"]}
    with pytest.raises(DecodeError, match="benchmark year"):
        egov_csv.decode((HEADER + "EE,1,1,1,1,1,1,1,1\n").encode(), "egov.csv")
