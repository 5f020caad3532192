-- The most recent period with a value, per indicator and geo (for maps, rankings and scorecards).
CREATE VIEW latest_values AS
SELECT *
FROM indicator_values
WHERE value IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY indicator, geo ORDER BY year DESC, period DESC) = 1;
