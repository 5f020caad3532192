"""Format decoders: one module per source format, each `decode(raw, source, *, dataset=None) -> etl.model.Decoded`."""
from __future__ import annotations

import re
from pathlib import Path

from etl.model import DecodeError

DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def dataset_from_name(source: str, suffixes: tuple[str, ...]) -> str:
    """The dataset code a recorded file is named after (`isoc_e_dii.tsv.gz` -> `isoc_e_dii`); refuse anything else."""
    code = Path(source).name.lower()
    while code.endswith(suffixes):
        code = code.rsplit(".", 1)[0]
    return checked_code(code, source)


def checked_code(code: str, source: str) -> str:
    """A dataset code that looks like Eurostat's (lower-case letters, digits, underscores)."""
    if not DATASET_CODE.match(code):
        raise DecodeError(source, "dataset code", f"no usable dataset code (got {code!r}); pass dataset=")
    return code
