-- Per dataset: rows, countries, years, flagged values, source update and retrieval time (`dsm status`).
CREATE VIEW dataset_status AS
SELECT
    dataset,
    count(*) AS rows,
    count(DISTINCT geo) AS countries,
    min(year) AS first_year,
    max(year) AS last_year,
    count(flags) AS flagged,
    count(*) FILTER (WHERE value IS NULL) AS missing_values,
    count(DISTINCT indicator) AS indicators,
    max(source_updated) AS source_updated,
    max(retrieved_at) AS retrieved_at,
    count(DISTINCT source_file) AS files
FROM observations_t
GROUP BY dataset
ORDER BY dataset;
