"""Pure figure builders: DataFrame (+ state/meta) -> plotly Figure; no queries, no I/O."""
