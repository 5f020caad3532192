"""The recorded-folder source over /work/shared/data: every file to its dataset and format, none skipped."""
from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from etl.sources import rawstore
from etl.sources.recorded import RecordedSource, dataset_for

# Read off the data README's tables (an independent account of what each file is).
EXPECTED_DATASET = {
    "isoc_e_dii.json": "isoc_e_dii", "isoc_ci_in_h.json": "isoc_ci_in_h", "isoc_e_dii_all.json.gz": "isoc_e_dii",
    "isoc_ci_cm_h_a1.json": "isoc_ci_cm_h", "isoc_ci_cm_h_a2.json": "isoc_ci_cm_h",
    "isoc_ci_ifp_iu.json": "isoc_ci_ifp_iu",
    "isoc_ci_in_h.tsv": "isoc_ci_in_h", "isoc_ci_in_h_2019_legacy-header.tsv": "isoc_ci_in_h",
    "isoc_e_dii.tsv": "isoc_e_dii", "isoc_sks_itspa.tsv": "isoc_sks_itspa", "isoc_sks_itspe.tsv": "isoc_sks_itspe",
    "isoc_sks_itsps.tsv": "isoc_sks_itsps", "tin00074.tsv": "tin00074", "tin00085.tsv": "tin00085",
    "isoc_e_dii.csv": "isoc_e_dii", "isoc_sk_dskl_i21_labels.csv": "isoc_sk_dskl_i21",
    "isoc_ec_esels_labels.csv": "isoc_ec_esels", "isoc_cbt_labels.csv": "isoc_cbt",
    "isoc_ec_ibuy.xlsx": "isoc_ec_ibuy", "isoc_ec_ib20.xlsx": "isoc_ec_ib20",
    "desi_2020_export.csv": "desi", "desi_2022_workbook.xlsx": "desi_2022",
    "digital_decade_2026_facts.json": "digital_decade", "digital_decade_trajectories.json": "digital_decade",
    "scoreboard_indicators.json": "digital_decade",
    "egov_benchmark_2022data.csv": "egov_benchmark", "egov_benchmark_2023data.csv": "egov_benchmark",
}
# The README's folder for each kind of file; the source must not rely on it, so it is a fair cross-check.
FOLDER_FORMAT = {"jsonstat": "jsonstat", "tsv": "tsv", "sdmx-csv": "sdmx_csv", "xlsx": "xlsx", "desi": "desi_csv",
                 "scoreboard": "scoreboard", "egov": "egov_csv"}
FILE_FORMAT = {"desi_2022_workbook.xlsx": "desi_xlsx"}  # the one folder holding two formats
# Shorter and near-miss codes that must lose to the right one.
DECOYS = {"isoc_ci", "isoc_e", "isoc_e_di", "isoc_ci_cm", "isoc_sks", "tin0007", "desi_20"}
KNOWN = set(EXPECTED_DATASET.values()) | DECOYS


def fingerprint(folder) -> dict:
    """Path -> (sha256, mtime) of every file, to prove the source folder is never modified."""
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def source(shared_data):
    """The shared recordings with every README dataset known, plus decoys."""
    return RecordedSource(shared_data, KNOWN)


def test_every_recording_maps_to_its_dataset(source, shared_data):
    # The README's files map exactly; recordings added later beside them may map elsewhere or nowhere.
    mapped = {path.name: dataset for dataset in source.datasets() for path in source.files_for(dataset)}
    assert {name: mapped.get(name) for name in EXPECTED_DATASET} == EXPECTED_DATASET
    assert not {path.name for path in source.unknown()} & set(EXPECTED_DATASET)
    assert source.datasets() >= set(EXPECTED_DATASET.values())
    assert source.datasets() <= KNOWN


def test_formats_are_detected_from_content_not_folders(source, shared_data):
    for dataset in source.datasets():
        for path in source.files_for(dataset):
            folder = path.parent.name
            assert source.format_of(path) == FILE_FORMAT.get(path.name, FOLDER_FORMAT[folder]), path


def test_no_readme_data_file_is_skipped_and_a_skip_says_why(source, shared_data):
    reasons = {path.name: reason for path, reason in source.skipped()}
    assert not set(reasons) & set(EXPECTED_DATASET), "a data file of the README was skipped"
    assert all(reason.strip() for reason in reasons.values()), "every skip gives its reason"


def test_files_for_keeps_partial_answers_together(source):
    assert [p.name for p in source.files_for("isoc_ci_cm_h")] == ["isoc_ci_cm_h_a1.json", "isoc_ci_cm_h_a2.json"]
    assert source.files_for("no_such_dataset") == []


@pytest.mark.parametrize("stem, expected", [
    ("isoc_ci_cm_h_a1", "isoc_ci_cm_h"), ("isoc_ci_in_h_2019_legacy-header", "isoc_ci_in_h"),
    ("isoc_sk_dskl_i21_labels", "isoc_sk_dskl_i21"), ("desi_2020_export", "desi"), ("tin00074", "tin00074"),
    ("isoc_e_diix", None), ("other", None),
])
def test_longest_known_prefix_at_a_word_boundary(stem, expected):
    known = {"isoc_ci", "isoc_ci_cm_h", "isoc_ci_in_h", "isoc_sk_dskl_i21", "desi", "tin00074", "tin0007", "isoc_e_dii"}
    assert dataset_for(stem, known) == expected


def test_a_dataset_the_catalogue_does_not_know_is_unknown_not_an_error(shared_data):
    whole = RecordedSource(shared_data, KNOWN)
    partial = RecordedSource(shared_data, KNOWN - {"tin00074", "tin00085"})
    newly_unknown = {p.name for p in partial.unknown()} - {p.name for p in whole.unknown()}
    assert newly_unknown == {"tin00074.tsv", "tin00085.tsv"}
    assert "tin00074" not in partial.datasets()


def test_fetch_dataset_copies_bytes_with_file_provenance_and_leaves_the_folder_alone(source, shared_data, tmp_path):
    before = fingerprint(shared_data)
    copies = source.fetch_dataset("isoc_e_dii", raw_dir=tmp_path)

    assert sorted(c.path.name for c in copies) == ["isoc_e_dii.csv", "isoc_e_dii.json", "isoc_e_dii.tsv",
                                                   "isoc_e_dii_all.json.gz"]
    for copy in copies:
        original = next(shared_data.rglob(copy.path.name))
        body, meta = rawstore.read_raw(copy.path)
        assert body == original.read_bytes()
        assert meta["url"] == original.resolve().as_uri()
        assert meta["dataset"] == "isoc_e_dii" and meta["format"] == source.format_of(original)
    assert fingerprint(shared_data) == before


def test_source_updated_is_read_from_the_content_where_the_format_has_it(source, shared_data, tmp_path):
    by_name = {c.path.name: c.meta for c in source.fetch_dataset("isoc_e_dii", raw_dir=tmp_path)}
    json_doc = json.loads(next(shared_data.rglob("isoc_e_dii.json")).read_bytes())
    gz_doc = json.loads(gzip.decompress(next(shared_data.rglob("isoc_e_dii_all.json.gz")).read_bytes()))
    assert by_name["isoc_e_dii.json"]["source_updated"] == json_doc["updated"]
    assert by_name["isoc_e_dii_all.json.gz"]["source_updated"] == gz_doc["updated"]
    assert by_name["isoc_e_dii.tsv"]["source_updated"] is None  # TSV carries no stamp
    esels = source.fetch_dataset("isoc_ec_esels", raw_dir=tmp_path)[0]
    assert esels.meta["source_updated"] == "2024-12-12T11:00:00"  # LAST UPDATE 12/12/24 11:00:00


def test_fetching_a_dataset_without_recordings_is_a_clear_error(source, tmp_path):
    with pytest.raises(LookupError, match="no_such_dataset"):
        source.fetch_dataset("no_such_dataset", raw_dir=tmp_path)


def test_synthetic_folder_unrecognised_csv_and_workbook_are_skipped(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "isoc_x_1.csv").write_text("a,b,c\n1,2,3\n")
    (folder / "isoc_x.csv").write_text("STRUCTURE,STRUCTURE_ID,freq,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n")
    (folder / "notes.txt").write_text("hello")
    (folder / "broken.xlsx").write_bytes(b"not a zip")
    found = RecordedSource(folder, {"isoc_x"})
    assert [p.name for p in found.files_for("isoc_x")] == ["isoc_x.csv"]
    reasons = {p.name: r for p, r in found.skipped()}
    assert set(reasons) == {"isoc_x_1.csv", "notes.txt", "broken.xlsx"}
    assert "neither SDMX-CSV" in reasons["isoc_x_1.csv"]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        RecordedSource(tmp_path / "nowhere", set())
