"""Write translations from a JSON file into the .po catalogues: `python scripts/add_translations.py FILE.json`.

FILE.json maps each English message to its translations: {"Compare countries": {"pl": "Porównaj kraje", ...}};
a plural message maps each language to its list of forms. Run scripts/translations.sh first (it adds the code's new
messages to every .po) and again after (it compiles and runs the coverage check). Editing the .po by hand is the
same; this is for adding many messages at once.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "dashboard" / "translations"


def apply(texts: dict, folder: Path = TRANSLATIONS) -> dict[str, int]:
    """Set every translation the mapping gives in the catalogues it names; returns messages written per language."""
    written: dict[str, int] = {}
    languages = sorted({lang for by_lang in texts.values() for lang in by_lang})
    for lang in languages:
        po = folder / lang / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for msgid, by_lang in texts.items():
            if lang not in by_lang:
                continue
            entry = catalog.get(msgid)
            if entry is None:
                sys.exit(f"{po}: no message {msgid!r} (run scripts/translations.sh first, or check the spelling)")
            value = by_lang[lang]
            entry.string = tuple(value) if isinstance(value, list) else value
            entry.flags.discard("fuzzy")
            written[lang] = written.get(lang, 0) + 1
        with po.open("wb") as handle:
            write_po(handle, catalog, width=116, omit_header=False, sort_output=True, no_location=True)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for lang, count in apply(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))).items():
        print(f"{lang}: {count} messages")
