"""The coercion calibration's population and targets (issue 9, step 1): valid, sourced, drawn as
documented."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sim.calibration.population import (
    DRAWS_PER_EPISODE,
    EXTRA_DRAWS_PER_EPISODE,
    LEVELS,
    Episode,
    Pair,
    Population,
    expand,
    in_subset,
    load_population,
)
from sim.calibration.sourcedata import SENDERS, build_pairs
from sim.calibration.targets import OUTCOMES, DirectionTarget, ShareTarget, Subset, load_targets

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "calibration-sources.md"
DATA = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "states_2023.csv").exists(), reason="no ../shared/data")


@pytest.fixture(scope="module")
def pop() -> Population:
    return load_population()


@pytest.fixture(scope="module")
def episodes() -> list[Episode]:
    return expand(40, seed=11)


def _states() -> dict[str, dict[str, str]]:
    with (DATA / "states_2023.csv").open(encoding="utf-8", newline="") as f:
        return {r["iso3"]: r for r in csv.DictReader(f)}


# --------------------------------------------------------------------------- targets


def test_targets_validate_and_cover_the_issue() -> None:
    t = load_targets()
    ids = {x.id for x in t.targets}
    assert {
        "hse_success_among_imposed",
        "ties_threats_never_imposed",
        "ties_acquiescence_at_threat",
        "threat_stage_beats_imposition",
        "success_rises_with_trade_dependence",
        "success_rises_with_cost_to_target",
        "allies_concede_more",
    } <= ids
    hse = t.by_id("hse_success_among_imposed")
    assert isinstance(hse, ShareTarget) and (hse.value, hse.tolerance_pp) == (0.34, 6)
    for tid, value in (
        ("ties_threats_never_imposed", 0.538),
        ("ties_acquiescence_at_threat", 0.192),
    ):
        share = t.by_id(tid)
        assert isinstance(share, ShareTarget) and (share.value, share.tolerance_pp) == (value, 8)
    assert set(t.outcomes) == set(OUTCOMES)
    directions = [x for x in t.targets if x.kind == "direction"]
    assert len(directions) == 4
    assert all(isinstance(x, DirectionTarget) and x.confidence == 0.95 for x in directions)


def test_every_target_cites_a_section_and_author_of_the_sources_file() -> None:
    text = SOURCES.read_text(encoding="utf-8")
    sections = set(re.findall(r"^#{2,3} ([0-9]+[a-z]?)\.", text, flags=re.M))
    t = load_targets()
    cited = [c for x in t.targets for c in x.citations]
    assert cited
    for c in cited:
        assert c.sources_section in sections, c
        surname = re.split(r"[ ,&-]", c.authors)[0]
        assert surname in text, c.authors
        assert c.year is None or str(c.year) in text, c
    for section in [d.sources_section for d in t.dropped] + [
        u.sources_section for u in t.unanchored
    ]:
        assert section in sections, section


def test_share_targets_are_consistent_with_their_sources() -> None:
    """The TIES shares are the counts the sources file gives."""
    t = load_targets()
    for tid, num, den in (
        ("ties_threats_never_imposed", 567, 1053),
        ("ties_acquiescence_at_threat", 202, 1053),
        ("sender_follow_through", 486, 693),
    ):
        target = t.by_id(tid)
        assert isinstance(target, ShareTarget)
        assert target.value == pytest.approx(num / den, abs=5e-4)
    assert t.by_id("sender_follow_through").role == "check"


def test_bad_targets_are_refused() -> None:
    good = (ROOT / "sim" / "calibration" / "targets.yaml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="numerator"):
        load_targets(
            good.replace("numerator: [complied_after_imposition]", "numerator: [lifted, x]", 1)
        )
    with pytest.raises(ValueError, match="within"):
        load_targets(good.replace("tolerance_pp: 6", "tolerance_pp: 40", 1))
    with pytest.raises(ValueError, match=r"[Ee]xtra"):
        load_targets(good.replace("version: 1", "version: 1\nsurprise: 2", 1))


# --------------------------------------------------------------------------- population file


def test_population_has_every_pair(pop: Population) -> None:
    ids = [p.id for p in pop.pairs]
    assert len(ids) == 56 and len(set(ids)) == 56
    assert Counter(p.sender for p in pop.pairs) == {"USA": 28, "CHN": 28}


def test_salience_prior_sums_to_one_and_levels_increase(pop: Population) -> None:
    levels = pop.salience.levels
    assert tuple(levels) == LEVELS
    assert math.isclose(sum(v.probability for v in levels.values()), 1.0)
    values = [v.value for v in levels.values()]
    assert values == sorted(values)
    assert all(v.meaning for v in levels.values())


@needs_data
def test_pairs_equal_what_the_data_files_give(pop: Population) -> None:
    rebuilt = [Pair.model_validate(p) for p in build_pairs(DATA)]
    assert rebuilt == pop.pairs


@needs_data
def test_spot_checks_against_states_2023(pop: Population) -> None:
    rows = _states()
    by_id = {p.id: p for p in pop.pairs}
    mex, bra = by_id["USA-MEX"], by_id["CHN-BRA"]
    assert mex.gdp.value == float(rows["MEX"]["gdp_usd"]) == 1788886821047.0
    assert mex.exports_to_sender.value == 475600000000.0
    assert mex.exports_to_sender.source == rows["MEX"]["exports_to_usa_usd_source"]
    assert bra.exports_to_sender.value == float(rows["BRA"]["exports_to_chn_usd"]) == 104.3e9
    assert bra.loans_from_sender.value == 31.5e9
    assert by_id["CHN-BOL"].sender_fdi_stock.value == 6e9
    assert by_id["USA-BOL"].sender_fdi_stock.value == 430e6


@needs_data
def test_nf_cells_are_null_and_labelled(pop: Population) -> None:
    rows = _states()
    by_id = {p.id: p for p in pop.pairs}
    pan = by_id["CHN-PAN"]
    assert rows["PAN"]["exports_to_chn_usd"] == "NF"
    assert (pan.exports_to_sender.value, pan.exports_to_sender.status) == (None, "not_found")
    assert (pan.loans_from_sender.value, pan.loans_from_sender.status) == (None, "not_found")
    us = by_id["USA-PAN"].loans_from_sender
    assert (us.value, us.status, us.column) == (None, "not_applicable", None)
    for p in pop.pairs:
        for q in (p.exports_to_sender, p.imports_from_sender, p.loans_from_sender):
            if q.column is not None:
                assert (rows[p.target][q.column] == "NF") == (q.status == "not_found")


@needs_data
def test_alignment_uses_2018_2019_against_china(pop: Population) -> None:
    by_id = {p.id: p for p in pop.pairs}
    mex = by_id["USA-MEX"].alignment_with_sender
    assert mex.years == [2018, 2019]
    expected = ((0.30 - 0.20) / 0.80 + (0.29 - 0.20) / 0.80) / 2
    assert mex.value == pytest.approx(expected)
    assert by_id["CHN-MEX"].alignment_with_sender.value == pytest.approx(1 - expected)
    for p in pop.pairs:
        a = p.alignment_with_sender
        pairs = zip(a.coincidence_us, a.coincidence_us_chn, strict=True)
        index = float(np.mean([(c - k) / (1 - k) for c, k in pairs]))
        assert a.value == pytest.approx(index if p.sender == "USA" else 1 - index)


# --------------------------------------------------------------------------- expand


def test_expand_is_deterministic_and_covers_every_pair(pop: Population) -> None:
    a, b = expand(7, seed=3), expand(7, seed=3)
    assert a == b
    assert a != expand(7, seed=4)
    assert Counter(e.pair for e in a) == {p.id: 7 for p in pop.pairs}
    assert {e.sender for e in a} == set(SENDERS)


def test_episodes_do_not_depend_on_how_many_are_drawn() -> None:
    few, many = expand(3, seed=5), expand(10, seed=5)
    assert few == [e for e in many if e.number < 3]
    assert DRAWS_PER_EPISODE == 9


def test_draws_stay_inside_the_documented_ranges(pop: Population, episodes: list[Episode]) -> None:
    s = pop.stakes
    for e in episodes:
        assert s.tariff_rate.low <= e.tariff_rate <= s.tariff_rate.high
        assert e.export_coverage == 1.0 or (
            s.sectoral_coverage.low <= e.export_coverage <= s.sectoral_coverage.high
        )
        if e.withhold_lending:
            assert e.loans_from_sender is not None and e.sender == "CHN"
            lo, hi = s.withheld_lending_share.low, s.withheld_lending_share.high
            assert lo <= e.withheld_lending_share <= hi
        else:
            assert e.withheld_lending_share == 0.0
        assert pop.sovereignty.low <= e.sovereignty <= pop.sovereignty.high
        assert e.salience_level in LEVELS


def test_draw_frequencies_follow_the_priors(pop: Population) -> None:
    eps = expand(200, seed=1)
    n = len(eps)
    counts = Counter(e.salience_level for e in eps)
    for name, level in pop.salience.levels.items():
        assert counts[name] / n == pytest.approx(level.probability, abs=0.02)
    share = sum(e.export_coverage == 1.0 for e in eps) / n
    assert share == pytest.approx(pop.stakes.across_the_board.probability, abs=0.02)
    for flag in ("sanctions_on_officials", "financial_pressure"):
        p = getattr(pop.stakes, flag).probability
        assert sum(getattr(e, flag) for e in eps) / n == pytest.approx(p, abs=0.02)


def test_episodes_carry_the_pair_quantities(pop: Population, episodes: list[Episode]) -> None:
    by_id = {p.id: p for p in pop.pairs}
    for e in episodes:
        p = by_id[e.pair]
        assert e.gdp == p.gdp.value and e.exports_to_sender == p.exports_to_sender.value
        assert e.alignment_with_sender == p.alignment_with_sender.value
        assert e.scored == (p.exports_to_sender.status == "found")
    scored_pairs = {e.pair for e in episodes if e.scored}
    assert sum(pid.startswith("USA") for pid in scored_pairs) == 28
    assert sum(pid.startswith("CHN") for pid in scored_pairs) == 14


# ------------------------------------------------- priors added after step 1 (second stream)

COMMITTED_EPISODES: dict[int, dict[str, object]] = {
    0: {"pair": "USA-MEX", "number": 0, "salience_level": "high",
        "tariff_rate": 0.1493948138157892, "export_coverage": 0.35616190927978975,
        "withhold_lending": False, "withheld_lending_share": 0.0,
        "sanctions_on_officials": True, "financial_pressure": False,
        "sovereignty": 0.9619457656822541},
    2: {"pair": "USA-MEX", "number": 2, "salience_level": "high",
        "tariff_rate": 0.18553532453705002, "export_coverage": 0.12854094035300126,
        "withhold_lending": False, "withheld_lending_share": 0.0,
        "sanctions_on_officials": False, "financial_pressure": False,
        "sovereignty": 0.8887867941235652},
    5622: {"pair": "CHN-MEX", "number": 22, "salience_level": "low",
           "tariff_rate": 0.14397216385336228, "export_coverage": 0.8432922345608451,
           "withhold_lending": True, "withheld_lending_share": 0.3004780870733714,
           "sanctions_on_officials": True, "financial_pressure": True,
           "sovereignty": 0.6626390426875075},
}  # fmt: skip
"""Fields of expand(200, seed=1) as the committed population (HEAD bc8a9c4) gave them,
computed with the committed code before the second stream was added."""


def test_the_committed_draws_are_unchanged_by_the_added_priors() -> None:
    """The priors added after step 1 draw from their own stream: every earlier field of every
    episode is what the committed population gave (hard-coded values and sums over all 11,200
    episodes of seed 1, computed with the committed code)."""
    eps = expand(200, seed=1)
    assert len(eps) == 11200
    for k in (0, 2, 5622):
        for name, value in COMMITTED_EPISODES[k].items():
            assert getattr(eps[k], name) == value, (k, name)
    assert sum(e.withhold_lending for e in eps) == 650
    assert sum(e.sanctions_on_officials for e in eps) == 2747
    assert sum(e.financial_pressure for e in eps) == 2770
    assert Counter(e.salience_level for e in eps) == {
        "high": 3831, "medium": 2852, "low": 2806, "core": 1711}  # fmt: skip
    assert math.fsum(e.tariff_rate for e in eps) == pytest.approx(4358.757631869127, rel=1e-12)
    assert math.fsum(e.export_coverage for e in eps) == pytest.approx(8409.147855050795, rel=1e-12)
    assert math.fsum(e.withheld_lending_share for e in eps) == pytest.approx(
        398.43644728056677, rel=1e-12
    )
    assert math.fsum(e.sovereignty for e in eps) == pytest.approx(12120.176671953528, rel=1e-12)


def test_added_priors_validate_and_cite_their_source(pop: Population) -> None:
    s = pop.stakes
    assert s.outright_imposition.probability == pytest.approx(359 / 1412, abs=5e-4)
    assert "1,412" in s.outright_imposition.reason and "2b" in s.outright_imposition.reason
    assert "359 / 1412" in SOURCES.read_text(encoding="utf-8")
    assert (s.imposed_rate_factor.low, s.imposed_rate_factor.high) == (0.5, 1.5)
    assert s.imposed_rate_factor.distribution == "loguniform"
    assert 0 < s.imposed_rate_differs.probability < 1 and 0 < s.phase_in.probability < 1
    assert (s.phase_in.start_share, s.phase_in.after_months) == (0.5, 6)
    for reason in (s.imposed_rate_differs.reason, s.phase_in.reason):
        assert "Estimate" in reason
    data = pop.model_dump()
    data["stakes"]["phase_in"]["start_share"] = 1.0
    with pytest.raises(ValueError, match="start_share"):
        Population.model_validate(data)


def test_added_draws_follow_their_priors(pop: Population) -> None:
    s = pop.stakes
    eps = expand(200, seed=1)
    n = len(eps)
    assert EXTRA_DRAWS_PER_EPISODE == 4
    outright = [e for e in eps if e.outright]
    assert len(outright) / n == pytest.approx(s.outright_imposition.probability, abs=0.02)
    phased = [e for e in eps if e.schedule]
    assert len(phased) / n == pytest.approx(s.phase_in.probability, abs=0.02)
    threat_started = [e for e in eps if e.threat_started]
    differs = [
        e
        for e in threat_started
        if (e.schedule[0][1] if e.schedule else e.imposed_rate or e.tariff_rate) != e.tariff_rate
    ]
    share = len(differs) / len(threat_started)
    assert share == pytest.approx(s.imposed_rate_differs.probability, abs=0.02)
    for e in eps:
        full = e.schedule[0][1] if e.schedule else (e.imposed_rate or e.tariff_rate)
        assert e.outright is not e.threat_started
        if e.outright:
            assert full == e.tariff_rate  # an outright rate is not a bargaining position
        lo, hi = s.imposed_rate_factor.low, s.imposed_rate_factor.high
        assert lo * e.tariff_rate <= full <= hi * e.tariff_rate
        if e.schedule:
            assert e.schedule == ((6, full),) and e.imposed_rate == 0.5 * full
        else:
            assert e.imposed_rate is None or e.imposed_rate != e.tariff_rate


def test_targets_count_threat_started_episodes_only(episodes: list[Episode]) -> None:
    counted = in_subset(episodes, None)
    assert counted == [e.scored and not e.outright for e in episodes]
    assert any(e.scored and e.outright for e in episodes)
    top = in_subset(
        episodes, Subset(covariate="threatened_cost", tercile="top", ranked_within="all")
    )
    assert not any(t and e.outright for t, e in zip(top, episodes, strict=True))


def test_terciles_select_scored_extremes(episodes: list[Episode]) -> None:
    top = in_subset(
        episodes, Subset(covariate="trade_dependence", tercile="top", ranked_within="all")
    )
    bottom = in_subset(
        episodes, Subset(covariate="trade_dependence", tercile="bottom", ranked_within="all")
    )
    assert not any(t and b for t, b in zip(top, bottom, strict=True))
    chosen = [e for e, t in zip(episodes, top, strict=True) if t]
    assert chosen and all(e.scored for e in chosen)
    low = [e.trade_dependence for e, b in zip(episodes, bottom, strict=True) if b]
    assert max(x for x in low if x is not None) < min(e.trade_dependence or 0 for e in chosen)
    allies = in_subset(
        episodes, Subset(covariate="alignment_with_sender", tercile="top", ranked_within="sender")
    )
    assert {e.sender for e, a in zip(episodes, allies, strict=True) if a} == set(SENDERS)


def test_salience_reasoning_quotes_the_population_it_was_set_on(pop: Population) -> None:
    """population.yaml's salience reasoning quotes cost_defy quantiles (seed 1, 200 per pair)."""
    eps = [e for e in expand(200, seed=1) if e.scored]
    loss = np.array([1 - (1 + e.tariff_rate) ** -0.76 for e in eps])
    cost = 0.6 * loss * np.array([e.export_coverage * (e.trade_dependence or 0.0) for e in eps])
    q = np.quantile(cost, [0.25, 0.5, 0.75, 0.9, 0.95])
    assert q == pytest.approx([0.00045, 0.0015, 0.0047, 0.0105, 0.017], rel=0.06)
    assert cost.max() == pytest.approx(0.065, rel=0.01)
    assert "0.0015" in pop.salience.reasoning and "0.065" in pop.salience.reasoning
