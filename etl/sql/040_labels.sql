-- Code labels: those the source files carry win over the shipped code lists (priority 0 before 1).
CREATE TABLE labels AS
SELECT dimension, code, label
FROM (
    SELECT
        CAST(dimension AS VARCHAR) AS dimension,
        CAST(code AS VARCHAR) AS code,
        CAST(label AS VARCHAR) AS label,
        row_number() OVER (PARTITION BY dimension, code ORDER BY priority, label) AS pick
    FROM staged_labels
    WHERE dimension IS NOT NULL AND code IS NOT NULL AND label IS NOT NULL
)
WHERE pick = 1
ORDER BY dimension, code;
