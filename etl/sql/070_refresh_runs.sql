-- Refresh runs up to and including the one that built this database (failed runs too).
CREATE TABLE refresh_runs AS
SELECT
    CAST(run_id AS VARCHAR) AS run_id,
    CAST(started_at AS TIMESTAMPTZ) AS started_at,
    CAST(finished_at AS TIMESTAMPTZ) AS finished_at,
    CAST(status AS VARCHAR) AS status,
    CAST(message AS VARCHAR) AS message,
    CAST(datasets_loaded AS VARCHAR[]) AS datasets_loaded,
    CAST(datasets_missing AS VARCHAR[]) AS datasets_missing,
    CAST(datasets_failed AS VARCHAR[]) AS datasets_failed
FROM staged_refresh_runs
ORDER BY started_at;
