"""Early warnings (早期预警): production-month cohorts whose claims on a causal part run above
what the other cohorts' claim rates lead to expect.

The rule is Wu & Meeker's Poisson rule (Wu, H. and Meeker, W. Q., "Early detection of
reliability problems using information from warranty databases", Technometrics 44 (2), 2002),
chosen over ReliaSoft's chi-squared return monitoring because it needs no fitted life
distribution: every part is checked from its first claims on, when a Weibull fit would still be
refused for too few failures, and a cohort's claims are compared with the rates of the very same
months in service of the other cohorts, so an early-life problem is seen after one or two months.
Its p-value is exact for small counts, where a chi-squared approximation is not.

For a causal part, its models (those with any counted claim of it) and a production month i:
- N_ij = vehicles of cohort i of age >= j (they have been in service through month j),
- c_ij = counted claims of the part on cohort i at months in service j (repeats included),
- the baseline rate at j is that of the other cohorts: l_j = (C_j - c_ij) / (N_j - N_ij);
- expected E_i = sum over j of l_j N_ij, observed O_i = sum over j of c_ij;
- a warning when O_i >= MIN_CLAIMS, O_i >= MIN_RATIO x E_i and P(Poisson(E_i) >= O_i) < ALPHA.

ALPHA = 0.001 per cohort and part keeps false alarms rare across the hundreds of cells checked
every night (Wu & Meeker control the overall false-alarm probability the same way, by a small
per-cell level); MIN_RATIO keeps a statistically clear but tiny excess (on huge counts) quiet.
Everything is aggregated in SQL (claims by part, model, production month and MIS; vehicles by
model, production month and age).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.analysis import queries
from portal.analysis.queries import Selection

ALPHA = 0.001
MIN_CLAIMS = 3
MIN_RATIO = 1.5


@dataclass
class Finding:
    part_id: int
    cohort: str
    vehicles: int
    observed: int
    expected: float
    p_value: float
    evidence: list = field(default_factory=list)  # [k, N_ik, c_ik, expected_ik]


def _cells(as_of: date):
    from portal.extensions import db

    selection = Selection(as_of)
    vehicles = queries._vehicles(selection)
    claims = queries._counted_claims(selection, vehicles)
    claim_month = queries._month_key(claims.c.production_date)
    claim_rows = db.session.execute(
        sa.select(
            claims.c.causal_part_id,
            claims.c.model_id,
            claim_month.label("cohort"),
            claims.c.mis,
            sa.func.count().label("n"),
        )
        .where(claims.c.causal_part_id.is_not(None))
        .group_by(claims.c.causal_part_id, claims.c.model_id, claim_month, claims.c.mis)
    ).all()
    counted, count = queries._vehicle_source(selection, vehicles)
    vehicle_month = queries._month_key(counted.c.production_date)
    vehicle_rows = db.session.execute(
        sa.select(
            counted.c.model_id,
            vehicle_month.label("cohort"),
            counted.c.age,
            count.label("n"),
        ).group_by(counted.c.model_id, vehicle_month, counted.c.age)
    ).all()
    return claim_rows, vehicle_rows


def check(as_of: date) -> list[Finding]:
    """Every part and production month above its expectation at `as_of`."""
    from scipy.stats import poisson

    claim_rows, vehicle_rows = _cells(as_of)
    ages: dict = defaultdict(lambda: defaultdict(int))  # model -> (cohort, age) -> vehicles
    for model_id, cohort, age, n in vehicle_rows:
        ages[model_id][(cohort, age)] += n
    part_claims: dict = defaultdict(lambda: defaultdict(int))  # part -> (cohort, mis) -> claims
    part_models: dict = defaultdict(set)
    for part_id, model_id, cohort, mis, n in claim_rows:
        part_claims[part_id][(cohort, mis)] += n
        part_models[part_id].add(model_id)

    findings = []
    for part_id, cells in part_claims.items():
        at_age: dict = defaultdict(int)  # (cohort, age) -> vehicles of the part's models
        for model_id in part_models[part_id]:
            for key, n in ages[model_id].items():
                at_age[key] += n
        cohorts = sorted({c for c, _ in at_age} | {c for c, _ in cells})
        oldest = max([a for _, a in at_age] + [k for _, k in cells] + [0])
        exposure = {}  # (cohort, j) -> vehicles of age >= j
        for cohort in cohorts:
            running = 0
            for j in range(oldest, 0, -1):
                running += at_age.get((cohort, j), 0)
                exposure[(cohort, j)] = running
        total_exposure = defaultdict(int)
        total_claims = defaultdict(int)
        for (_cohort, j), n in exposure.items():
            total_exposure[j] += n
        for (_cohort, j), n in cells.items():
            total_claims[j] += n
        for cohort in cohorts:
            observed = sum(n for (c, _), n in cells.items() if c == cohort)
            if observed < MIN_CLAIMS:
                continue
            expected, evidence = 0.0, []
            for j in range(1, oldest + 1):
                mine = exposure.get((cohort, j), 0)
                if not mine:
                    continue
                others = total_exposure[j] - mine
                rate = (total_claims[j] - cells.get((cohort, j), 0)) / others if others else 0.0
                expected += rate * mine
                evidence.append([j, mine, cells.get((cohort, j), 0), rate * mine])
            if not any(total_exposure[j] - exposure.get((cohort, j), 0) for j in total_exposure):
                continue  # no other cohort to compare with
            p_value = float(poisson.sf(observed - 1, expected)) if expected > 0 else 0.0
            if p_value < ALPHA and observed >= MIN_RATIO * expected:
                name = f"{cohort // 100:04d}-{cohort % 100:02d}"
                findings.append(
                    Finding(
                        part_id,
                        name,
                        exposure.get((cohort, 1), 0),
                        observed,
                        expected,
                        p_value,
                        evidence,
                    )
                )
    return findings
