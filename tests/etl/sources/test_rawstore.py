"""The raw store: atomic writes, sidecars that match the bytes, corruption and write failures detected."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from etl.sources import rawstore
from etl.sources.rawstore import ChecksumError, RawStoreError, list_raw, read_raw, write_raw

REPO = Path(__file__).resolve().parents[3]
META = {"url": "https://example.invalid/x", "http_status": 200, "source_updated": "2025-04-08T23:00:00+0200",
        "content_type": "application/json", "format": "jsonstat"}


def leftovers(folder: Path) -> list[str]:
    """Temp files a write left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_then_read_round_trip_and_sidecar_matches_the_bytes(tmp_path):
    body = b'{"synthetic": true, "value": [1, 2, 3]}'
    stored = write_raw("test_ds", "test_ds.json", body, META, raw_dir=tmp_path)

    assert stored.path == tmp_path / "test_ds" / "test_ds.json"
    assert stored.path.read_bytes() == body
    sidecar = json.loads((tmp_path / "test_ds" / "test_ds.json.meta.json").read_text())
    assert sidecar["sha256"] == hashlib.sha256(stored.path.read_bytes()).hexdigest()
    assert sidecar["bytes"] == os.path.getsize(stored.path)
    assert sidecar["dataset"] == "test_ds" and sidecar["format"] == "jsonstat"
    for field in ("url", "http_status", "source_updated", "content_type"):
        assert sidecar[field] == META[field]
    retrieved = datetime.fromisoformat(sidecar["retrieved_at"])
    assert retrieved.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - retrieved).total_seconds()) < 3600

    body_back, meta_back = read_raw(stored.path)
    assert body_back == body and meta_back == sidecar
    assert leftovers(stored.path.parent) == []


def test_caller_cannot_smuggle_a_wrong_checksum_into_the_sidecar(tmp_path):
    stored = write_raw("test_ds", "a.tsv", b"abc", {**META, "sha256": "0" * 64, "bytes": 999}, raw_dir=tmp_path)
    assert stored.meta["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert stored.meta["bytes"] == 3


def test_overwrite_replaces_file_and_sidecar_together(tmp_path):
    write_raw("test_ds", "a.json", b"first", META, raw_dir=tmp_path)
    second = write_raw("test_ds", "a.json", b"second body", META, raw_dir=tmp_path)
    body, meta = read_raw(second.path)
    assert body == b"second body" and meta["bytes"] == len(b"second body")
    assert sorted(p.name for p in second.path.parent.iterdir()) == ["a.json", "a.json.meta.json"]


def test_corrupted_cache_file_is_refused_naming_the_file(tmp_path):
    stored = write_raw("test_ds", "a.json", b'{"value": [1.5, 2.5]}', META, raw_dir=tmp_path)
    damaged = bytearray(stored.path.read_bytes())
    damaged[3] ^= 0xFF
    stored.path.write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError, match=r"a\.json.*corrupted"):
        read_raw(stored.path)


def test_missing_sidecar_is_a_clear_error(tmp_path):
    (tmp_path / "test_ds").mkdir()
    lonely = tmp_path / "test_ds" / "lonely.json"
    lonely.write_bytes(b"{}")
    with pytest.raises(RawStoreError, match="lonely.json has no sidecar"):
        read_raw(lonely)


def test_list_raw_finds_sidecared_files_and_ignores_temp_files(tmp_path):
    write_raw("ds_a", "one.json", b"1", META, raw_dir=tmp_path)
    write_raw("ds_a", "two.tsv", b"2", {**META, "format": "tsv"}, raw_dir=tmp_path)
    write_raw("ds_b", "three.json", b"3", META, raw_dir=tmp_path)
    (tmp_path / "ds_a" / ".one.json.abc.tmp").write_bytes(b"half")
    (tmp_path / "ds_a" / "stray.json").write_bytes(b"no sidecar")

    everything = list_raw(raw_dir=tmp_path)
    assert [(f.dataset, f.path.name, f.format) for f in everything] == [
        ("ds_a", "one.json", "jsonstat"), ("ds_a", "two.tsv", "tsv"), ("ds_b", "three.json", "jsonstat")]
    assert [f.path.name for f in list_raw("ds_b", raw_dir=tmp_path)] == ["three.json"]


@pytest.mark.parametrize("dataset, filename", [("..", "x.json"), ("ds", "../x.json"), ("ds/sub", "x"),
                                               ("ds", "x.json.meta.json"), ("", "x")])
def test_names_that_could_escape_the_store_are_refused(tmp_path, dataset, filename):
    with pytest.raises(ValueError):
        write_raw(dataset, filename, b"x", META, raw_dir=tmp_path)
    assert not any(tmp_path.rglob("*x*"))


def test_permission_error_names_the_path_and_keeps_the_previous_file(tmp_path):
    stored = write_raw("test_ds", "a.json", b"previous good body", META, raw_dir=tmp_path)
    sidecar_before = stored.meta_path.read_bytes()
    folder = stored.path.parent
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running with privileges that ignore folder permissions (root); see the RLIMIT test")
        with pytest.raises(RawStoreError, match=str(stored.path)):
            write_raw("test_ds", "a.json", b"new body", META, raw_dir=tmp_path)
    finally:
        folder.chmod(0o755)
    assert stored.path.read_bytes() == b"previous good body"
    assert stored.meta_path.read_bytes() == sidecar_before
    assert leftovers(folder) == []


WRITE_UNDER_FILE_SIZE_LIMIT = r"""
import json, resource, signal, sys
from etl.sources.rawstore import write_raw, RawStoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # get EFBIG as an OSError instead of being killed
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    write_raw("test_ds", "a.json", b"x" * 100_000, {"format": "jsonstat"}, raw_dir=sys.argv[1])
except RawStoreError as err:
    print(json.dumps({"error": str(err), "errno": err.errno}))
else:
    print(json.dumps({"error": None}))
"""


def test_a_write_that_fails_midway_leaves_no_half_file_and_the_previous_one_intact(tmp_path):
    """A real failed write (file size limit, like a full disk) even when running as root."""
    stored = write_raw("test_ds", "a.json", b"previous good body", META, raw_dir=tmp_path)
    sidecar_before = stored.meta_path.read_bytes()
    run = subprocess.run([sys.executable, "-c", WRITE_UNDER_FILE_SIZE_LIMIT, str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, check=True)
    outcome = json.loads(run.stdout)
    assert outcome["error"] is not None, "the oversized write should have failed"
    assert str(stored.path) in outcome["error"]
    assert outcome["errno"] is not None
    assert stored.path.read_bytes() == b"previous good body"
    assert stored.meta_path.read_bytes() == sidecar_before
    assert read_raw(stored.path)[0] == b"previous good body"
    assert leftovers(stored.path.parent) == []


def test_default_location_follows_the_data_dir_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("DSM_DATA_DIR", str(tmp_path / "data"))
    stored = write_raw("test_ds", "a.json", b"{}", META)
    assert stored.path == (tmp_path / "data" / "raw" / "test_ds" / "a.json").resolve()
    assert [f.path for f in rawstore.list_raw()] == [stored.path]
