"""The DIGINNO findings registry: YAML files an analyst edits, loaded lazily and validated field by field."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Optional, Union
from urllib.parse import urlencode

import yaml
from pydantic import (BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints, ValidationError,
                      field_validator)

from dashboard.data.connection import remember
from dashboard.meta import EU27

FINDINGS_DIR = Path(__file__).resolve().parent / "findings"
WORK_PACKAGES = ("WP2", "WP3", "WP4")
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# Eurostat geo codes: two letters for countries, or a named aggregate such as EU27_2020.
GEO_PATTERN = rf"^([A-Z]{{2}}|{EU27}|EU)$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
FindingId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
GeoCode = Annotated[str, StringConstraints(pattern=GEO_PATTERN)]
Code = Annotated[str, StringConstraints(min_length=1)]
ChartValue = Union[StrictStr, StrictInt, list[Union[StrictStr, StrictInt]]]


class _Model(BaseModel):
    """A findings mapping: unknown fields refused, values read as written (2 is not '2')."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChartState(BaseModel):
    """The chart a finding links to: its page path and its URL parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, ChartValue]

    page: Annotated[str, StringConstraints(pattern=r"^/")]


class Source(_Model):
    """The project document a finding comes from."""

    document: Text
    date: dt.date
    file: Optional[str] = None
    url: Optional[str] = None


class Finding(_Model):
    """One finding of a work package, with the indicators and chart that carry its evidence."""

    id: FindingId
    work_package: Literal[WORK_PACKAGES]
    title: Text
    text: Text
    countries: Annotated[tuple[GeoCode, ...], Field(min_length=1)]
    indicators: Annotated[tuple[Code, ...], Field(min_length=1)]
    chart: ChartState                        # page: /trends, indicator: ..., geo: [EE, LV]
    source: Source
    date: dt.date
    file: str                                # the YAML file it was read from

    @field_validator("text")
    @classmethod
    def _one_line(cls, value: str) -> str:
        """Line breaks and runs of spaces in the YAML become single spaces."""
        return " ".join(value.split())

    @property
    def chart_href(self) -> str:
        """The dashboard URL (page + query) of the chart showing the evidence."""
        return chart_href(self.chart.model_dump())


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


def _field_path(loc: tuple, item: Any, missing: bool = False) -> str:
    """pydantic's error location as the YAML reads: ('countries', 0) -> 'countries[0]', ('source', 'date') ->
    'source.date'; parts naming a type tried (a union's 'str') rather than a place in the mapping are left out
    (a missing field's last part is kept: it is the field's name)."""
    path = ""
    for i, part in enumerate(loc):
        inside = isinstance(item, dict) and part in item or isinstance(item, list) and isinstance(part, int) \
            and part < len(item)
        if not inside and path and not (missing and i == len(loc) - 1):
            break
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        item = item[part] if inside else None
    return path


# pydantic's error types in the words an analyst editing the YAML reads (others keep pydantic's message)
REASONS = {
    "missing": "missing",
    "extra_forbidden": "unknown field (a typo?)",
    "literal_error": "must be one of {expected}",
    "string_pattern_mismatch": "not a valid code or path (expected {pattern})",
    "string_too_short": "must be non-empty text",
    "string_type": "must be text",
    "too_short": "must be a non-empty list",
    "date_from_datetime_parsing": "must be a date like 2018-06-06",
    "date_parsing": "must be a date like 2018-06-06",
    "date_type": "must be a date like 2018-06-06",
}


def _first_problem(err: ValidationError, item: dict) -> _FieldError:
    """The first field pydantic refused, with a reason an analyst can act on."""
    first = err.errors()[0]
    where = _field_path(first["loc"], item, missing=first["type"] == "missing") or "(finding)"
    context = {k: str(v).replace("'", "").replace(" or ", ", ") for k, v in first.get("ctx", {}).items()}
    reason = REASONS.get(first["type"], first["msg"]).format(**context)
    return _FieldError(where, reason if first["type"] in ("missing", "extra_forbidden") else
                       f"{reason}, got {first['input']!r}")


def parse_finding(item: Any, file: str) -> Finding:
    """Validate one finding mapping (pydantic); raise _FieldError naming the first bad field."""
    if not isinstance(item, dict):
        raise _FieldError("(finding)", f"must be a mapping of fields, got {type(item).__name__}")
    if "file" in item:
        raise _FieldError("file", "unknown field (a typo?)")
    try:
        return Finding.model_validate({**item, "file": file})
    except ValidationError as err:
        raise _first_problem(err, item) from None


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
