-- 2030 target per indicator: the source's own target row where the data holds one (Digital Scoreboard facts with
-- breakdown 'dd_target_2030' for the same scoreboard indicator code), else the catalogue's typed target_2030.
CREATE VIEW indicator_targets AS
WITH held AS (
    SELECT
        c.id AS indicator,
        o.value AS target_2030,
        o.unit AS target_unit,
        o.source_file,
        row_number() OVER (PARTITION BY c.id ORDER BY o.retrieved_at DESC NULLS LAST, o.source_file) AS pick
    FROM catalogue AS c
    JOIN observations_t AS o
      ON o.dataset = c.dataset
     AND o.dims['indicator'] = json_extract_string(c.selection, '$.indicator')
     AND o.dims['breakdown'] = 'dd_target_2030'
    WHERE o.value IS NOT NULL
)
SELECT indicator, target_2030, target_unit, 'data' AS target_source, source_file
FROM held WHERE pick = 1
UNION ALL
SELECT id, target_2030, NULL, 'catalogue', NULL
FROM catalogue
WHERE target_2030 IS NOT NULL AND id NOT IN (SELECT indicator FROM held);
