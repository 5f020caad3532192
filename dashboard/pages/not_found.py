"""Friendly page for an unknown path (registered under dash's not_found_404 name so the router uses it)."""
from __future__ import annotations

import dash

from dashboard import components
from dashboard.i18n import _


def layout(**_query):
    """A short message and a way back to the overview."""
    return components.friendly_error(_("There is no page at this address."), "/", back_label=_("Go to the overview"))


# dash picks the 404 page by a module name ending in "not_found_404"; the layout is supplied here.
dash.register_page("dashboard.pages.not_found_404", path="/404", title="Not found — Baltic DSM Dashboard",
                   layout=layout)
