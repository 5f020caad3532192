"""Compiling the catalogues: every .po becomes a .mo, '% of ...' unit labels included (no %-format checker)."""
from __future__ import annotations

import io

from babel.support import Translations

from dashboard import i18n


def test_unit_labels_with_a_percent_sign_compile_and_translate():
    po = i18n.TRANSLATIONS_DIR / "pl" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    catalogue = Translations(io.BytesIO(i18n.compiled(po, "pl")), domain=i18n.DOMAIN)
    translated = catalogue.gettext("% of individuals")
    assert translated != "% of individuals" and translated.startswith("%")


def test_compile_catalogues_writes_one_mo_per_language(tmp_path, monkeypatch):
    for lang in ("pl", "de"):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        source = i18n.TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        (folder / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    written = i18n.compile_catalogues()
    assert sorted(p.parent.parent.name for p in written) == ["de", "pl"]
    with written[0].open("rb") as handle:
        assert Translations(handle, domain=i18n.DOMAIN).gettext("% of individuals") != "% of individuals"
