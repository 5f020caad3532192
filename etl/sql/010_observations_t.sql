-- The observations of this build, copied into the database so that the file is self-contained:
-- a database never points at a Parquet set it was not built from. $files is bound to this build's Parquet files.
CREATE TABLE observations_t AS
SELECT
    dataset,
    indicator,
    geo,
    period,
    year,
    unit,
    CAST(dims AS MAP(VARCHAR, VARCHAR)) AS dims,
    value,
    flags,
    source_updated,
    retrieved_at,
    source_file
FROM read_parquet($files)
ORDER BY dataset, indicator NULLS LAST, geo, period;
