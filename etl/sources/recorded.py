"""The offline source: a folder of recorded responses, each file mapped to its dataset and format by content."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Iterable

from etl.formats import registry
from etl.sources import rawstore

CATALOGUE_TOML = Path(__file__).resolve().parents[1] / "catalogue.toml"
# Formats that hold one dataset whatever the file is called: a file of such a format maps to that dataset.
FORMAT_DATASET = {"scoreboard": "digital_decade", "egov_csv": "egov_benchmark", "desi_xlsx": "desi_2022"}
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
            fmt, reason = registry.detect(path)
            if fmt is None:
                self._skipped.append((path, reason))
                continue
            fixed = FORMAT_DATASET.get(fmt)
            if fixed is not None:
                dataset = fixed if fixed in self.known else None
            else:
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
            "source_updated": registry.source_updated(fmt, body),
            "content_type": registry.get(fmt).content_type,
            "format": fmt,
        }
        return rawstore.write_raw(dataset, path.name, body, meta, raw_dir=raw_dir)
