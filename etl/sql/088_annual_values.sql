-- One row per indicator, geo and year: the latest period of the year when a series is sub-annual (the one
-- annual pick every chart, average and profile reads); flag-only cells stay (a value of NULL is missing, not 0).
CREATE VIEW annual_values AS
SELECT *
FROM indicator_values
WHERE year IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY indicator, geo, year ORDER BY period DESC) = 1;
