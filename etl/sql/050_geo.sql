-- Geo codes from the code list, plus any geo the observations use that the list lacks
-- (named from the files' own labels, else by code), so every observation's geo has a row.
-- is_eu27 and is_bsr are membership of the country_groups 'eu27' and 'bsr' (the catalogue's [groups]).
CREATE TABLE geo AS
WITH listed AS (
    SELECT
        CAST(s.code AS VARCHAR) AS code,
        CAST(s.name AS VARCHAR) AS name,
        s.code IN (SELECT geo FROM country_groups WHERE group_id = 'eu27') AS is_eu27,
        s.code IN (SELECT geo FROM country_groups WHERE group_id = 'bsr') AS is_bsr,
        CAST(s.is_aggregate AS BOOLEAN) AS is_aggregate,
        CAST(s.iso3 AS VARCHAR) AS iso3
    FROM staged_geo AS s
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
