"""Tests of the dashboard package; helpers shared by its synthetic databases."""
from etl.publish import SQL_DIR

# The ETL's annual pick (latest period of each year), run over a synthetic database's indicator_values.
ANNUAL_VALUES_SQL = SQL_DIR / "088_annual_values.sql"
