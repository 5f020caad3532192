-- Country groups from the catalogue's [groups] (bsr, eu27, best_practice, and the reference aggregate as group
-- 'reference'): one row per member, position giving the catalogue's order from 1.
CREATE TABLE country_groups AS
SELECT
    CAST(group_id AS VARCHAR) AS group_id,
    CAST(geo AS VARCHAR) AS geo,
    CAST(position AS INTEGER) AS position
FROM staged_country_groups
ORDER BY group_id, position;
