"""Where raw files come from: the live Eurostat API (eurostat.py), a recorded folder (recorded.py), cached in rawstore.py."""
