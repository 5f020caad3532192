"""The raw file cache: data/raw/<dataset>/<file> plus a <file>.meta.json sidecar, written atomically."""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from etl import config

SIDECAR_SUFFIX = ".meta.json"
# Fields every sidecar carries; write_raw fills bytes/sha256/dataset itself so they cannot disagree with the file.
META_FIELDS = (
    "url", "retrieved_at", "http_status", "bytes", "sha256", "source_updated",
    "content_type", "format", "dataset",
)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class RawStoreError(OSError):
    """A raw file could not be written or read; the message names the path."""

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        self.errno = errno


class ChecksumError(RawStoreError):
    """A cached raw file no longer matches the sha256 recorded in its sidecar."""


@dataclass(frozen=True)
class RawFile:
    """One cached raw download and its sidecar metadata."""

    path: Path
    dataset: str
    format: str | None
    meta: dict
    decoded: object = field(default=None, compare=False, repr=False)  # a live body already decoded when checked

    @property
    def meta_path(self) -> Path:
        """The sidecar next to the file."""
        return sidecar_path(self.path)


def utc_now_iso() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def sidecar_path(path: Path) -> Path:
    """Where the metadata of a raw file lives."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sha256_of(body: bytes) -> str:
    """Hex sha256 of a body."""
    return hashlib.sha256(body).hexdigest()


def check_name(kind: str, name: str) -> None:
    """Refuse dataset or file names that could escape the raw folder."""
    if not SAFE_NAME.match(name or "") or ".." in name:
        raise ValueError(f"unsafe {kind} name for the raw store: {name!r}")
    if name.endswith(SIDECAR_SUFFIX):
        raise ValueError(f"{kind} name {name!r} collides with the sidecar suffix {SIDECAR_SUFFIX}")


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write data to path through a temp file in the same folder, fsync it, then os.replace it in.

    The one atomic write of the ETL: readers see the old file or the new one, never half. mkstemp makes
    the file 0600; `mode` (e.g. 0o644) opens it to other readers.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        # The temp file is ours alone; the previous `path` was never touched.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable by syncing its folder (best effort where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def build_meta(dataset: str, body: bytes, meta: dict) -> dict:
    """The sidecar contents: caller's fields, with size, checksum and dataset computed here."""
    unknown = set(meta) - set(META_FIELDS)
    full = {field: meta.get(field) for field in META_FIELDS}
    full.update({key: meta[key] for key in sorted(unknown)})  # extra provenance is kept, never dropped
    full["retrieved_at"] = full["retrieved_at"] or utc_now_iso()
    full["bytes"] = len(body)
    full["sha256"] = sha256_of(body)
    full["dataset"] = dataset
    return full


def write_raw(dataset: str, filename: str, body: bytes, meta: dict, raw_dir: Path | None = None) -> RawFile:
    """Store body as <raw_dir>/<dataset>/<filename> with its sidecar; all or nothing per file."""
    check_name("dataset", dataset)
    check_name("file", filename)
    assert isinstance(body, bytes), f"{dataset}/{filename}: body must be bytes, got {type(body).__name__}"
    folder = Path(raw_dir or config.raw_dir()) / dataset
    path = folder / filename
    full_meta = build_meta(dataset, body, meta)
    sidecar = json.dumps(full_meta, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(path, body)
        atomic_write(sidecar_path(path), sidecar)
    except OSError as err:
        raise RawStoreError(f"cannot write raw file {path}: {err.strerror or err}", err.errno) from err
    return RawFile(path=path, dataset=dataset, format=full_meta.get("format"), meta=full_meta)


def read_meta(path: Path) -> dict:
    """The sidecar of a raw file, or a clear error naming it."""
    meta_file = sidecar_path(Path(path))
    try:
        meta = json.loads(meta_file.read_text("utf-8"))
    except FileNotFoundError as err:
        raise RawStoreError(f"raw file {path} has no sidecar {meta_file.name}", err.errno) from err
    except (OSError, ValueError) as err:
        raise RawStoreError(f"cannot read sidecar {meta_file}: {err}") from err
    if not isinstance(meta, dict) or "sha256" not in meta:
        raise RawStoreError(f"sidecar {meta_file} has no sha256")
    return meta


def read_raw(path: Path) -> tuple[bytes, dict]:
    """Read a cached raw file and its sidecar, refusing it if the checksum no longer matches."""
    path = Path(path)
    meta = read_meta(path)
    try:
        body = path.read_bytes()
    except OSError as err:
        raise RawStoreError(f"cannot read raw file {path}: {err.strerror or err}", err.errno) from err
    actual = sha256_of(body)
    if actual != meta["sha256"]:
        raise ChecksumError(
            f"raw file {path} is corrupted: sha256 {actual} ({len(body)} bytes) "
            f"does not match its sidecar ({meta['sha256']}, {meta.get('bytes')} bytes)",
        )
    return body, meta


def list_raw(dataset: str | None = None, raw_dir: Path | None = None) -> list[RawFile]:
    """Every cached raw file that has a sidecar, optionally for one dataset, in name order."""
    root = Path(raw_dir or config.raw_dir())
    folders = [root / dataset] if dataset else sorted(p for p in root.glob("*") if p.is_dir())
    found = []
    for folder in folders:
        for meta_file in sorted(folder.glob(f"*{SIDECAR_SUFFIX}")):
            if meta_file.name.startswith("."):
                continue  # a temp file left by a crash, never a finished sidecar
            path = meta_file.with_name(meta_file.name[: -len(SIDECAR_SUFFIX)])
            if not path.exists():
                continue
            meta = read_meta(path)
            found.append(RawFile(path=path, dataset=meta.get("dataset") or folder.name,
                                 format=meta.get("format"), meta=meta))
    return found
