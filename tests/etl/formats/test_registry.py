"""The format registry: one entry per decoder module, read by the recorded source, the live client and the catalogue."""
from __future__ import annotations

import gzip
import pkgutil

import pytest

import etl.formats
from etl.catalogue import LIVE_FORMATS, SOURCE_FORMATS, CatalogueError, parse_dataset
from etl.formats import registry
from etl.model import DecodeError
from etl.sources import eurostat


def test_every_decoder_module_is_registered_once():
    modules = {m.name for m in pkgutil.iter_modules(etl.formats.__path__)} - {"registry"}
    assert set(registry.names()) == modules
    for name, fmt in registry.FORMATS.items():
        assert fmt.name == name and fmt.suffixes and fmt.content_type
        assert fmt.decode.__module__ == f"etl.formats.{name}"


def test_the_catalogue_and_the_live_client_read_the_registry():
    assert SOURCE_FORMATS == registry.names()
    # Eurostat's client fetches three; the catalogue also takes the Digital Scoreboard's (etl/sources/scoreboard.py)
    assert set(eurostat.LIVE_FORMATS) == {"jsonstat", "jsonstat-sdmx3", "tsv"}
    assert set(LIVE_FORMATS) == set(eurostat.LIVE_FORMATS) | {"scoreboard"}
    assert registry.for_live("scoreboard").name == "scoreboard"
    assert registry.for_live("jsonstat-sdmx3").name == "jsonstat"
    # the client could fetch jsonstat-sdmx3 all along; the catalogue now accepts it too
    entry = {"title": "t", "licence": "l", "source_url": "u", "live_format": "jsonstat-sdmx3"}
    assert parse_dataset("isoc_x", entry, "here").live_format == "jsonstat-sdmx3"
    with pytest.raises(CatalogueError, match="live_format"):
        parse_dataset("isoc_x", {**entry, "live_format": "xml"}, "here")
    with pytest.raises(ValueError, match="xml"):
        registry.for_live("xml")


def test_detect_by_suffix_and_content(tmp_path):
    files = {
        "a.json": b'  {"version": "2.0"}', "b.json.gz": gzip.compress(b'{"id": []}'), "c.json": b'"a string"', "i.json": b"[1, 2]",
        "d.tsv": b"unit,geo\\time\t2020\n", "e.csv": b"DATAFLOW,LAST UPDATE,freq\n",
        "f.csv": "\ufeffobservation,time_period,ref_area,indicator,breakdown,unit_measure,value\n".encode(),
        "g.csv": b"x,y\n", "h.txt": b"hello",
    }
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    found = {name: registry.detect(tmp_path / name) for name in files}
    assert {name: fmt for name, (fmt, _) in found.items()} == {
        "a.json": "jsonstat", "b.json.gz": "jsonstat", "c.json": None, "d.tsv": "tsv", "e.csv": "sdmx_csv",
        "f.csv": "desi_csv", "g.csv": None, "h.txt": None, "i.json": "scoreboard"}
    assert found["c.json"][1].startswith("neither JSON-stat") and "Digital Scoreboard records" in found["c.json"][1]
    assert "neither SDMX-CSV" in found["g.csv"][1] and "nor the DESI export" in found["g.csv"][1]
    assert "extension .txt" in found["h.txt"][1]


def test_a_file_without_a_recorded_format_falls_back_to_its_suffix():
    assert registry.for_file_name("X.TSV.GZ").name == "tsv"
    assert registry.for_file_name("x.csv").name == "sdmx_csv"
    with pytest.raises(DecodeError, match="no decoder"):
        registry.for_file_name("x.parquet")
    with pytest.raises(KeyError, match="unknown format 'xml'"):
        registry.get("xml")
