"""What the catalogue says about one indicator: the one shape of it that insights, briefs, pages and figures read
(dashboard.data.queries.indicator_meta fills it from the database's catalogue table); and the reference codes every
view shares."""
from __future__ import annotations

from dataclasses import dataclass

from etl.codelists import EU27, EU28

# The EU references: DESI editions up to 2020 publish the EU28 average, not EU27_2020 (the reference when EU27 is absent).
EU_REFERENCES = (EU27, EU28)
BSR_AVERAGE = "BSR_AVG"  # pseudo-geo code of the computed BSR average series; never stored in the database
NOISE_PP = 2.0  # survey estimates carry roughly +/-1-2 pp sampling error (stated in the methods note)
EPSILON = 1e-9  # below this a difference is no difference (counts, thousands)


@dataclass(frozen=True)
class IndicatorMeta:
    """The catalogue's facts about one indicator."""

    id: str
    title: str
    unit: str | None                # the catalogue's unit ('% of households'), or a Eurostat code (PC_HH)
    higher_is_better: bool
    theme: str | None = None
    target_2030: float | None = None
    target_label: str | None = None
    noise_pp: float | None = None   # catalogue's own threshold; None: NOISE_PP for shares and scores
    directed: bool = True           # False for composition shares (e.g. ICT specialists who are women)

    @property
    def is_percent(self) -> bool:
        """Percentages: Eurostat codes PC_ENT, PC_HH, ... or catalogue labels '% of households'."""
        return bool(self.unit) and (self.unit.startswith("%") or self.unit.upper().startswith("PC"))

    @property
    def is_share_or_score(self) -> bool:
        """Percentages and 0-100 scores are comparable across countries; counts (thousand persons) are not."""
        return self.is_percent or bool(self.unit and "score" in self.unit.lower())

    @property
    def noise(self) -> float:
        """The threshold below which a difference, trend or change of spread is 'about the same'."""
        if self.noise_pp is not None:
            return self.noise_pp
        return NOISE_PP if self.is_share_or_score else EPSILON
