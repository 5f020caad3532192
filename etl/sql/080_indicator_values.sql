-- One row per indicator/geo/period. When several files of a dataset hold the cell, the row with the
-- latest source_updated wins, then the latest retrieved_at, then the file name (so the pick is stable).
-- Catalogue `scale` is applied here; `aggregate = 'sum'` indicators are the sum of their parts,
-- emitted only where every part is present with a value.
CREATE VIEW indicator_values AS
WITH candidates AS (
    SELECT
        o.*,
        c.scale,
        c.aggregate,
        c.parts,
        row_number() OVER (
            PARTITION BY o.indicator, o.geo, o.period,
                CASE WHEN c.aggregate IS NULL THEN NULL ELSE CAST(o.dims AS VARCHAR) END
            ORDER BY TRY_CAST(o.source_updated AS TIMESTAMPTZ) DESC NULLS LAST,
                     o.source_updated DESC NULLS LAST,
                     o.retrieved_at DESC NULLS LAST,
                     o.source_file
        ) AS pick
    FROM observations_t AS o
    JOIN catalogue AS c ON c.id = o.indicator
),
winners AS (
    SELECT * FROM candidates WHERE pick = 1
),
single AS (
    SELECT
        indicator, geo, period, year, value * scale AS value, flags, unit, dataset,
        source_updated, retrieved_at, source_file
    FROM winners
    WHERE aggregate IS NULL
),
summed AS (
    SELECT
        indicator,
        geo,
        period,
        any_value(year) AS year,
        sum(value) * any_value(scale) AS value,
        nullif(array_to_string(list_sort(list_distinct(flatten(list(string_split(coalesce(flags, ''), ''))))), ''), '') AS flags,
        any_value(unit) AS unit,
        any_value(dataset) AS dataset,
        max(source_updated) AS source_updated,
        max(retrieved_at) AS retrieved_at,
        string_agg(DISTINCT source_file, ',' ORDER BY source_file) AS source_file
    FROM winners
    WHERE aggregate = 'sum'
    GROUP BY indicator, geo, period
    HAVING count(*) = any_value(parts) AND count(value) = any_value(parts)
)
SELECT * FROM single
UNION ALL
SELECT * FROM summed;
