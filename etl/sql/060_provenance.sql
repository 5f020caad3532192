-- One row per raw file the observations came from.
CREATE TABLE provenance AS
SELECT
    CAST(dataset AS VARCHAR) AS dataset,
    CAST(file AS VARCHAR) AS file,
    CAST(url AS VARCHAR) AS url,
    CAST(sha256 AS VARCHAR) AS sha256,
    CAST(bytes AS BIGINT) AS bytes,
    CAST(source_updated AS VARCHAR) AS source_updated,
    CAST(retrieved_at AS TIMESTAMPTZ) AS retrieved_at,
    CAST(rows AS BIGINT) AS rows,
    CAST(format AS VARCHAR) AS format
FROM staged_provenance
ORDER BY dataset, file;
