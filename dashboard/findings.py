"""The DIGINNO findings registry: YAML files an analyst edits, loaded lazily and validated field by field."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode

import yaml

from dashboard.data.connection import remember

FINDINGS_DIR = Path(__file__).resolve().parent / "findings"
WORK_PACKAGES = ("WP2", "WP3", "WP4")
REQUIRED_FIELDS = ("id", "work_package", "title", "text", "countries", "indicators", "chart", "source", "date")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Eurostat geo codes: two letters for countries, or a named aggregate such as EU27_2020.
GEO_PATTERN = re.compile(r"^([A-Z]{2}|EU27_2020|EU)$")


@dataclass(frozen=True)
class Source:
    """The project document a finding comes from."""

    document: str
    date: dt.date
    file: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Finding:
    """One finding of a work package, with the indicators and chart that carry its evidence."""

    id: str
    work_package: str
    title: str
    text: str
    countries: tuple[str, ...]
    indicators: tuple[str, ...]
    chart: tuple[tuple[str, Any], ...]      # ('page', '/trends'), ('indicator', ...), ...
    source: Source
    date: dt.date
    file: str                                # the YAML file it was read from

    @property
    def chart_href(self) -> str:
        """The dashboard URL (page + query) of the chart showing the evidence."""
        return chart_href(dict(self.chart))


@dataclass(frozen=True)
class FindingError:
    """A problem in one file, naming the file and the field."""

    file: str
    field: str
    reason: str
    finding: str | None = None   # the finding's id, when it has a readable one

    def __str__(self) -> str:
        about = f" (finding {self.finding})" if self.finding else ""
        return f"{self.file}: {self.field}: {self.reason}{about}"


@dataclass(frozen=True)
class Registry:
    """Every finding that validated, and every error from the ones that did not."""

    findings: tuple[Finding, ...]
    errors: tuple[FindingError, ...] = field(default_factory=tuple)

    def by_id(self, finding_id: str) -> Finding | None:
        """The finding with this id, if any."""
        return next((f for f in self.findings if f.id == finding_id), None)


def chart_href(chart: dict[str, Any]) -> str:
    """Turn a chart state {page, key: value|list} into '/page?key=v1,v2'; lists are comma-joined."""
    page = chart["page"]
    query = {k: ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
             for k, v in chart.items() if k != "page"}
    return f"{page}?{urlencode(query, safe=',')}" if query else page


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads Norway's code NO (and YES/ON/OFF) as a boolean; only true/false are booleans here."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).append(
        ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))


class _FieldError(Exception):
    """Raised inside one finding's validation; carries the field path."""

    def __init__(self, field_path: str, reason: str):
        super().__init__(reason)
        self.field_path, self.reason = field_path, reason


def _text(value: Any, where: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise _FieldError(where, f"must be non-empty text, got {value!r}")
    return value.strip()


def _date(value: Any, where: str) -> dt.date:
    """A calendar date, written 2018-06-06."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _FieldError(where, f"must be a date like 2018-06-06, got {value!r}") from None


def _codes(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    """A non-empty list of codes, each matching `pattern` when given."""
    if not isinstance(value, list) or not value:
        raise _FieldError(where, f"must be a non-empty list, got {value!r}")
    for i, code in enumerate(value):
        if not isinstance(code, str) or (pattern and not pattern.match(code)):
            raise _FieldError(f"{where}[{i}]", f"not a valid code: {code!r}")
    return tuple(value)


def _chart(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    """A chart state: a mapping with a page path and query values (text or lists of text)."""
    if not isinstance(value, dict):
        raise _FieldError(where, f"must be a mapping with at least 'page', got {value!r}")
    page = value.get("page")
    if not isinstance(page, str) or not page.startswith("/"):
        raise _FieldError(f"{where}.page", f"must be a page path starting with '/', got {page!r}")
    for key, item in value.items():
        ok = isinstance(item, (str, int)) or (isinstance(item, list) and all(isinstance(x, (str, int)) for x in item))
        if not ok:
            raise _FieldError(f"{where}.{key}", f"must be text or a list of text, got {item!r}")
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in value.items())


def _source(value: Any, where: str) -> Source:
    """The project document: its name and date (optionally the file or URL)."""
    if not isinstance(value, dict):
        raise _FieldError(where, f"must be a mapping with 'document' and 'date', got {value!r}")
    unknown = set(value) - {"document", "date", "file", "url"}
    if unknown:
        raise _FieldError(f"{where}.{sorted(unknown)[0]}", "unknown field")
    return Source(
        document=_text(value.get("document"), f"{where}.document"),
        date=_date(value.get("date"), f"{where}.date"),
        file=value.get("file"),
        url=value.get("url"),
    )


def parse_finding(item: Any, file: str) -> Finding:
    """Validate one finding mapping; raise _FieldError naming the first bad field."""
    if not isinstance(item, dict):
        raise _FieldError("(finding)", f"must be a mapping of fields, got {type(item).__name__}")
    for name in REQUIRED_FIELDS:
        if name not in item:
            raise _FieldError(name, "missing")
    unknown = set(item) - set(REQUIRED_FIELDS)
    if unknown:
        raise _FieldError(sorted(unknown)[0], "unknown field (a typo?)")
    finding_id = _text(item["id"], "id")
    if not ID_PATTERN.match(finding_id):
        raise _FieldError("id", f"must be lower-case letters, digits and '-', got {finding_id!r}")
    wp = item["work_package"]
    if wp not in WORK_PACKAGES:
        raise _FieldError("work_package", f"must be one of {', '.join(WORK_PACKAGES)}, got {wp!r}")
    return Finding(
        id=finding_id, work_package=wp,
        title=_text(item["title"], "title"), text=" ".join(_text(item["text"], "text").split()),
        countries=_codes(item["countries"], "countries", GEO_PATTERN),
        indicators=_codes(item["indicators"], "indicators"),
        chart=_chart(item["chart"], "chart"), source=_source(item["source"], "source"),
        date=_date(item["date"], "date"), file=file,
    )


def _items_of(document: Any) -> list[tuple[str, Any]]:
    """A file holds one finding (a mapping with 'id') or many under 'findings:'; yield (prefix, item)."""
    if isinstance(document, dict) and "findings" in document:
        items = document["findings"]
        if not isinstance(items, list):
            raise _FieldError("findings", "must be a list of findings")
        return [(f"findings[{i}].", item) for i, item in enumerate(items)]
    return [("", document)]


def load_file(path: Path) -> tuple[list[Finding], list[FindingError]]:
    """Read one YAML file; every bad finding becomes an error naming the file and field, the rest load."""
    name = path.name
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        return [], [FindingError(name, where, f"not valid YAML: {exc}")]
    try:
        items = _items_of(document)
    except _FieldError as exc:
        return [], [FindingError(name, exc.field_path, exc.reason)]
    findings, errors = [], []
    for prefix, item in items:
        try:
            findings.append(parse_finding(item, name))
        except _FieldError as exc:
            label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
            errors.append(FindingError(name, f"{prefix}{exc.field_path}", exc.reason, label))
    return findings, errors


def load_findings(directory: Path | None = None) -> Registry:
    """Load and validate every *.yaml/*.yml file in `directory`; duplicates and bad files become errors."""
    directory = Path(directory or FINDINGS_DIR)
    findings: list[Finding] = []
    errors: list[FindingError] = []
    seen: dict[str, str] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        loaded, file_errors = load_file(path)
        errors.extend(file_errors)
        for finding in loaded:
            if finding.id in seen:
                errors.append(FindingError(path.name, "id", f"duplicate id {finding.id!r} (also in {seen[finding.id]})",
                                           finding.id))
                continue
            seen[finding.id] = path.name
            findings.append(finding)
    return Registry(tuple(findings), tuple(errors))


def check_indicators(registry: Registry, known: Iterable[str]) -> list[FindingError]:
    """Errors for every linked indicator that the catalogue does not hold."""
    known = set(known)
    return [
        FindingError(f.file, f"indicators[{i}]", f"unknown indicator {code!r}: not in the catalogue", f.id)
        for f in registry.findings for i, code in enumerate(f.indicators) if code not in known
    ]


def _directory_stamp(directory: Path) -> tuple:
    """What changes when an analyst edits, adds or removes a file."""
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def registry(directory: Path | None = None) -> Registry:
    """The findings registry, read on first use and re-read when a file changes."""
    directory = Path(directory or FINDINGS_DIR).resolve()
    key = ("findings", str(directory), _directory_stamp(directory))
    return remember(key, lambda: load_findings(directory), per_database=False)  # no database needed


def select(findings: Iterable[Finding], *, work_packages: Iterable[str] = (), geos: Iterable[str] = (),
           indicators: Iterable[str] = ()) -> list[Finding]:
    """Findings matching every non-empty filter (any of the given work packages, countries, indicators)."""
    wps, geos, indicators = set(work_packages), set(geos), set(indicators)
    return [
        f for f in findings
        if (not wps or f.work_package in wps)
        and (not geos or geos & set(f.countries))
        and (not indicators or indicators & set(f.indicators))
    ]
