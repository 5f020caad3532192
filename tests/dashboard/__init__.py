"""Tests of the dashboard package; helpers shared by its tests: the ETL's annual pick for synthetic databases, and
reading a built layout (the app's own tree walk)."""
from dashboard.components import walk
from etl.publish import SQL_DIR

# The ETL's annual pick (latest period of each year), run over a synthetic database's indicator_values.
ANNUAL_VALUES_SQL = SQL_DIR / "088_annual_values.sql"

__all__ = ["ANNUAL_VALUES_SQL", "find", "find_id", "text_of", "walk"]


def find(tree, kind=None, **attrs) -> list:
    """Components of a type (and with given attributes) in a tree."""
    return [c for c in walk(tree) if (kind is None or isinstance(c, kind))
            and all(getattr(c, k, None) == v for k, v in attrs.items())]


def find_id(tree, component_id):
    """The component with this id, or None."""
    return next((c for c in walk(tree) if getattr(c, "id", None) == component_id), None)


def text_of(tree) -> str:
    """All text in a tree, in document order, joined by spaces."""
    if isinstance(tree, str):
        return tree
    parts = []
    for node in walk(tree):
        children = getattr(node, "children", None)
        if isinstance(children, str):
            parts.append(children)
        elif isinstance(children, (list, tuple)):
            parts.extend(c for c in children if isinstance(c, str))
    return " ".join(parts)
