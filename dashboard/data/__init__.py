"""The dashboard's only data access: `connection` (read-only DuckDB, reopened on swap) and `queries` (cached DataFrames)."""
from dashboard.data import queries  # re-exported: `from dashboard.data import queries`

__all__ = ["queries"]
