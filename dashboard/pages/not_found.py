"""Friendly page for an unknown path (registered under dash's not_found_404 name so the router uses it)."""
from __future__ import annotations

import dash

from dashboard import components, i18n, registry
from dashboard.i18n import _


def layout(**query):
    """A short message and a way back to the overview, in the language the URL asks for (else the visit's)."""
    lang = query.get("lang")
    with i18n.use(i18n.resolve(lang[-1] if isinstance(lang, list) else lang)):
        back = "/" if i18n.current() == i18n.DEFAULT else f"/?lang={i18n.current()}"
        return components.friendly_error(_("There is no page at this address."), back,
                                         back_label=_("Go to the overview"))


def title() -> str:
    """The browser title in the visit's language."""
    return _("Not found — {site}", site=_(registry.SITE))


# dash picks the 404 page by a module name ending in "not_found_404"; the layout is supplied here.
dash.register_page("dashboard.pages.not_found_404", path="/404", title=title, layout=layout)
