"""The one list of source formats; a new format is a module under etl/formats/ plus one line in FORMATS."""
from __future__ import annotations

from pathlib import Path

from etl.formats import Format, desi_csv, desi_xlsx, egov_csv, jsonstat, scoreboard, sdmx_csv, tsv, xlsx
from etl.model import Decoded, DecodeError

# Order matters where formats share a suffix: the first whose sniff accepts a file wins, and the first
# listed is the one a file without a recorded format falls back to (.csv -> sdmx_csv).
FORMATS: dict[str, Format] = {f.name: f for f in (
    jsonstat.FORMAT,
    tsv.FORMAT,
    sdmx_csv.FORMAT,
    desi_csv.FORMAT,
    xlsx.FORMAT,
    scoreboard.FORMAT,
    egov_csv.FORMAT,
    desi_xlsx.FORMAT,
)}


def names() -> tuple[str, ...]:
    """Every format name (the catalogue's source_format values)."""
    return tuple(FORMATS)


def live_names() -> tuple[str, ...]:
    """Every live_format the live client can fetch."""
    return tuple(live for fmt in FORMATS.values() for live in fmt.live)


def get(name: str) -> Format:
    """A format by name; an unknown name is a clear error."""
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None


def for_live(live_format: str) -> Format:
    """The format a catalogue live_format is fetched in."""
    for fmt in FORMATS.values():
        if live_format in fmt.live:
            return fmt
    raise ValueError(f"unknown live_format {live_format!r}; expected one of {sorted(live_names())}")


def by_suffix(name: str) -> list[Format]:
    """Formats whose suffixes the file name ends with, in registry order."""
    lower = name.lower()
    return [fmt for fmt in FORMATS.values() if lower.endswith(fmt.suffixes)]


def for_file_name(name: str) -> Format:
    """The format a file name stands for when nothing else is known about it."""
    found = by_suffix(name)
    if not found:
        raise DecodeError(name, "file name", "no decoder for this kind of file")
    return found[0]


def detect(path: Path) -> tuple[str | None, str]:
    """(format, '') for a file recognised by suffix and content, or (None, why it is not used)."""
    candidates = by_suffix(path.name)
    if not candidates:
        return None, f"not a recorded response (extension {path.suffix or 'none'})"
    reasons = []
    for fmt in candidates:
        reason = fmt.sniff(path) if fmt.sniff else None
        if reason is None:
            return fmt.name, ""
        reasons.append(reason)
    return None, ("not " if len(reasons) == 1 else "neither ") + " nor ".join(reasons)


def decode(name: str, raw: bytes, source: str, *, dataset: str | None = None) -> Decoded:
    """Decode a body with the named format's decoder."""
    return get(name).decode(raw, source, dataset=dataset)


def source_updated(name: str, body: bytes) -> str | None:
    """The source's own last-update stamp where the format carries it cheaply; else None."""
    fmt = get(name)
    return fmt.updated(body) if fmt.updated else None
