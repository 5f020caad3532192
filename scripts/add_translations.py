"""Write translations from a JSON file into the .po catalogues: `python scripts/add_translations.py FILE.json`.

`python scripts/add_translations.py --revive` (run by scripts/translations.sh after `pybabel update`): a message the
code stopped using is kept in its .po as obsolete (`#~`); when the code uses it again, its translation is put back.

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


def revive(folder: Path = TRANSLATIONS) -> dict[str, int]:
    """Put obsolete translations back into untranslated messages of the same id; returns how many per language."""
    revived: dict[str, int] = {}
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parts[-3]
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for key, old in list(catalog.obsolete.items()):
            entry = catalog.get(old.id)
            strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (entry.string if entry else None,)
            if entry is not None and not all(strings) and old.string:
                entry.string = old.string
                entry.flags.discard("fuzzy")
                del catalog.obsolete[key]
                revived[lang] = revived.get(lang, 0) + 1
        if revived.get(lang):
            with po.open("wb") as handle:
                write_po(handle, catalog, width=116, omit_header=False, sort_output=True, no_location=True)
    return revived


if __name__ == "__main__":
    if sys.argv[1:] == ["--revive"]:
        for lang, count in revive().items():
            print(f"{lang}: {count} obsolete translations back in use")
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for lang, count in apply(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))).items():
        print(f"{lang}: {count} messages")
