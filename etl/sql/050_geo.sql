-- Geo codes from the code list, plus any geo the observations use that the list lacks
-- (named from the files' own labels, else by code), so every observation's geo has a row.
CREATE TABLE geo AS
WITH listed AS (
    SELECT
        CAST(code AS VARCHAR) AS code,
        CAST(name AS VARCHAR) AS name,
        CAST(is_eu27 AS BOOLEAN) AS is_eu27,
        CAST(is_bsr AS BOOLEAN) AS is_bsr,
        CAST(is_aggregate AS BOOLEAN) AS is_aggregate,
        CAST(iso3 AS VARCHAR) AS iso3
    FROM staged_geo
),
unlisted AS (
    SELECT DISTINCT o.geo AS code
    FROM observations_t AS o
    WHERE o.geo NOT IN (SELECT code FROM listed)
)
SELECT * FROM listed
UNION ALL
SELECT
    u.code,
    coalesce(l.label, u.code) AS name,
    NULL AS is_eu27,
    NULL AS is_bsr,
    NULL AS is_aggregate,
    NULL AS iso3
FROM unlisted AS u
LEFT JOIN labels AS l ON l.dimension = 'geo' AND l.code = u.code
ORDER BY code;
