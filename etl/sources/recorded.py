"""The offline source: a folder of recorded responses, each file mapped to its dataset and format by content."""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import tomllib
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Iterable

from etl.sources import rawstore

CATALOGUE_TOML = Path(__file__).resolve().parents[1] / "catalogue.toml"
CONTENT_TYPES = {
    "jsonstat": "application/json",
    "tsv": "text/tab-separated-values",
    "sdmx_csv": "text/csv",
    "desi_csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DESI_HEADER = {"time_period", "ref_area", "indicator", "breakdown", "unit_measure", "value"}
SDMX_CSV_FIRST = {"STRUCTURE", "DATAFLOW"}
# After the dataset code, a file stem may carry a suffix (isoc_ci_cm_h_a1, ..._2019_legacy-header).
CODE_BOUNDARY = re.compile(r"[_\-.]")


def known_from_catalogue(path: Path = CATALOGUE_TOML) -> set[str]:
    """Dataset codes named by etl/catalogue.toml ([datasets.<code>]), empty when it does not exist yet."""
    if not path.exists():
        return set()
    with path.open("rb") as handle:
        return {code.lower() for code in tomllib.load(handle).get("datasets", {})}


def stem_of(path: Path) -> str:
    """File name without .gz and its format extension, lower case."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.rsplit(".", 1)[0] if "." in name else name


def dataset_for(stem: str, known: Iterable[str]) -> str | None:
    """The longest known dataset code that the stem starts with, ending at a word boundary."""
    fitting = [code for code in known
               if stem.startswith(code) and (len(stem) == len(code) or CODE_BOUNDARY.match(stem[len(code)]))]
    return max(fitting, key=len) if fitting else None


def first_line(path: Path) -> str:
    """The first text line of a (possibly gzip) file, BOM stripped."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        return handle.readline(65536).decode("utf-8-sig", "replace").strip()


def csv_kind(path: Path) -> tuple[str | None, str]:
    """sdmx_csv or desi_csv from the header row, or None with the reason."""
    header = next(csv.reader([first_line(path)]), [])
    names = [h.strip() for h in header]
    if names and names[0].upper() in SDMX_CSV_FIRST:
        return "sdmx_csv", ""
    if DESI_HEADER <= {n.lower() for n in names}:
        return "desi_csv", ""
    return None, f"CSV header {names[:6]} is neither SDMX-CSV (STRUCTURE/DATAFLOW first) nor the DESI export"


def xlsx_sheets(path: Path) -> list[str]:
    """Sheet names of a workbook, read from xl/workbook.xml without loading the cells."""
    with zipfile.ZipFile(path) as book:
        xml = book.read("xl/workbook.xml").decode("utf-8", "replace")
    return re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml)


def xlsx_kind(path: Path) -> tuple[str | None, str]:
    """xlsx for a Data Browser download (has a Summary sheet), else None with the reason."""
    try:
        sheets = xlsx_sheets(path)
    except (zipfile.BadZipFile, KeyError) as err:
        return None, f"not a readable workbook: {err}"
    if "Summary" in sheets:
        return "xlsx", ""
    return None, f"workbook is not a Eurostat Data Browser download (no 'Summary' sheet; sheets: {', '.join(sheets[:8])})"


def detect_format(path: Path) -> tuple[str | None, str]:
    """(format, '') for a recorded response, or (None, why it is skipped)."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return "jsonstat", ""
    if name.endswith((".tsv", ".tsv.gz")):
        return "tsv", ""
    if name.endswith((".csv", ".csv.gz")):
        return csv_kind(path)
    if name.endswith(".xlsx"):
        return xlsx_kind(path)
    return None, f"not a recorded response (extension {path.suffix or 'none'})"


def jsonstat_updated(body: bytes) -> str | None:
    """JSON-stat's own `updated` stamp."""
    raw = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc.get("updated") if isinstance(doc, dict) else None


def sdmx_csv_updated(body: bytes) -> str | None:
    """The LAST UPDATE column of a Data Browser SDMX-CSV ('12/12/24 11:00:00'), as ISO 8601."""
    reader = csv.reader(io.StringIO(body[:65536].decode("utf-8-sig", "replace")))
    header = next(reader, [])
    if "LAST UPDATE" not in header:
        return None
    row = next(reader, None)
    if not row or len(row) <= header.index("LAST UPDATE"):
        return None
    stamp = row[header.index("LAST UPDATE")].strip()
    try:
        return datetime.strptime(stamp, "%d/%m/%y %H:%M:%S").isoformat()
    except ValueError:
        return None


def source_updated_of(fmt: str, body: bytes) -> str | None:
    """The source's own last-update stamp where the format carries it cheaply; else None for the decoder to fill."""
    if fmt == "jsonstat":
        return jsonstat_updated(body)
    if fmt == "sdmx_csv":
        return sdmx_csv_updated(body)
    return None


class RecordedSource:
    """A folder of recorded Eurostat/DESI responses, scanned once; files are only ever read."""

    def __init__(self, folder: Path | str, known: Iterable[str] | None = None):
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"recorded source folder {self.folder} does not exist")
        self.known = {code.lower() for code in (known if known is not None else known_from_catalogue())}
        self.by_dataset: dict[str, list[Path]] = {}
        self.formats: dict[Path, str] = {}
        self._skipped: list[tuple[Path, str]] = []
        self._unknown: list[Path] = []
        self.scan()

    def scan(self) -> None:
        """Classify every file under the folder: format, dataset, or skipped/unknown."""
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            if path.name.startswith(".") or path.name.lower() == "readme.md":
                continue  # notes about the recordings, not recordings
            fmt, reason = detect_format(path)
            if fmt is None:
                self._skipped.append((path, reason))
                continue
            dataset = dataset_for(stem_of(path), self.known)
            if dataset is None:
                self._unknown.append(path)
                continue
            self.formats[path] = fmt
            self.by_dataset.setdefault(dataset, []).append(path)

    def datasets(self) -> set[str]:
        """Dataset codes with at least one recorded file."""
        return set(self.by_dataset)

    def files_for(self, dataset: str) -> list[Path]:
        """Recorded files of one dataset, in path order."""
        return list(self.by_dataset.get(dataset.lower(), []))

    def format_of(self, path: Path) -> str:
        """The detected format of a recorded file."""
        return self.formats[Path(path)]

    def skipped(self) -> list[tuple[Path, str]]:
        """Files that are not usable recordings, each with the reason."""
        return list(self._skipped)

    def unknown(self) -> list[Path]:
        """Usable recordings whose name matches no known dataset code."""
        return list(self._unknown)

    def fetch_dataset(self, code: str, raw_dir: Path | None = None) -> list[rawstore.RawFile]:
        """Copy every recorded file of a dataset into the raw store, with file:// provenance."""
        files = self.files_for(code)
        if not files:
            raise LookupError(f"no recorded file for dataset {code!r} in {self.folder}")
        return [self.copy_to_raw(code.lower(), path, raw_dir) for path in files]

    def copy_to_raw(self, dataset: str, path: Path, raw_dir: Path | None) -> rawstore.RawFile:
        """One recorded file into the raw store under its own name."""
        body = path.read_bytes()
        fmt = self.formats[path]
        meta = {
            "url": path.as_uri(),
            "retrieved_at": rawstore.utc_now_iso(),
            "http_status": None,
            "source_updated": source_updated_of(fmt, body),
            "content_type": CONTENT_TYPES[fmt],
            "format": fmt,
        }
        return rawstore.write_raw(dataset, path.name, body, meta, raw_dir=raw_dir)
