"""The bloc hazard fitted to the Belt and Road signings in Latin America, 2017-2023, and scored
out of sample (leave one signatory out).

1. `covariates`: the backcast scenario (`backcast_bri_2017`) runs with the observed signings
   scripted and the bloc hazards off, without noise, and records each month what the BRI is worth
   to each state (closeness to China, dependence on it, the region's share in the BRI) and
   whether the state can join (relations with Beijing, not yet in).
2. `fit`: maximum likelihood of the monthly join hazard over the months each state was at risk
   (a discrete-time event history with the observed diffusion as a time-varying covariate).
3. `leave_one_out`: for each of the 12 signatories, fit without it and rank it against the states
   that did not sign by 2023 (cumulative hazard over the window); the AUC of that ranking and a
   permutation p-value.
4. `band`: the model itself, with the fitted rules, simulates the signings (its own diffusion);
   the year-end count of signatories against its 5-95% band.

`geosim backcast-blocs` prints the report; docs/validation.md holds it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from sim import rules_blocs
from sim.loader import load_tree, unwrap_sources
from sim.model import GeoModel
from sim.schema.parameters import BlocRules
from sim.validation import resolve_scenario_path, scenario_from_dict

F = NDArray[np.float64]
SCENARIO = "backcast_bri_2017"
SIGNINGS = Path(__file__).with_name("bri_signings.yaml")
FITTED = ("join_rate", "weight_alignment", "weight_economy", "weight_diffusion")
"""The rules the backcast identifies; the others stay at their defaults (no threats in it)."""


@dataclass(frozen=True)
class History:
    """Monthly covariates of every state under the observed history, and the outcome."""

    states: list[str]
    closeness: F
    dependence: F
    diffusion: F
    threat: F
    at_risk: NDArray[np.bool_]
    """(months, states): eligible and not yet in the BRI at the start of the month."""
    signed: NDArray[np.intp]
    """Month index of each state's signing, -1 if none in the window."""
    dt: float


def signings() -> dict[str, str | None]:
    """Observed month of signing per state (None: not by the end of 2023)."""
    from ruamel.yaml import YAML

    data: Any = YAML(typ="safe").load(SIGNINGS.read_text(encoding="utf-8"))
    return {
        c: (None if v["signed"] is None else str(v["signed"])) for c, v in data["states"].items()
    }


def base_data() -> dict[str, Any]:
    """The backcast scenario as plain data."""
    plain, _ = unwrap_sources(load_tree(resolve_scenario_path(SCENARIO)))
    return copy.deepcopy(plain)


def covariates() -> History:
    """Run the backcast with the observed signings scripted and the hazards off; record."""
    data = base_data()
    signed = signings()
    for code, month in signed.items():
        if month is not None:
            data["events"][f"signs_{code}"] = {
                "type": "join",
                "date": month,
                "state": code,
                "bloc": "BRI",
                "status": "member",
            }
    data["rules"] = {
        "blocs": {"join_rate": 0.0, "leave_rate": 0.0},
        "alignment": {"noise": 0.0},
    }
    model = GeoModel(scenario_from_dict(data).scenario, rng=0, collect=False)
    states = model.state_codes
    months = model.calendar.steps
    rows: dict[str, list[F]] = {k: [] for k in ("closeness", "dependence", "diffusion", "threat")}
    risk = []
    for _ in range(months):
        d = model.bloc_drivers(0)  # the month's hazard reads the state before it
        rows["closeness"].append(d["closeness"])
        rows["dependence"].append(d["dependence"])
        rows["diffusion"].append(d["diffusion"])
        rows["threat"].append(d["threat_cost"])
        b = model.membership.blocs[0]
        risk.append((b.status == 0) & model.alignment.relations[:, b.leader])
        model.step()
    labels = model.calendar.labels()[1:]  # step k's month
    signed_at = np.array(
        [-1 if (month := signed.get(c)) is None else labels.index(month) for c in states],
        dtype=np.intp,
    )
    at_risk = np.array(risk)
    # the month of signing counts as at risk (the join event applies within that month)
    for i, k in enumerate(signed_at):
        if k >= 0:
            at_risk[k, i] = True
            at_risk[k + 1 :, i] = False
    return History(
        states=states,
        closeness=np.array(rows["closeness"]),
        dependence=np.array(rows["dependence"]),
        diffusion=np.array(rows["diffusion"]),
        threat=np.array(rows["threat"]),
        at_risk=at_risk,
        signed=signed_at,
        dt=model.dt,
    )


def hazards(theta: F, h: History, p: BlocRules) -> F:
    """(months, states) yearly join hazards for theta = (log join_rate, w_a, w_e, w_d)."""
    rules = p.model_copy(
        update={
            "join_rate": float(np.exp(theta[0])),
            "weight_alignment": float(theta[1]),
            "weight_economy": float(theta[2]),
            "weight_diffusion": float(theta[3]),
        }
    )
    value = rules_blocs.membership_value(h.closeness, h.dependence, h.diffusion, h.threat, rules)
    change = value - value[0]
    return rules_blocs.join_hazard(value, change, np.ones(value.shape, dtype=bool), rules)


def neg_log_likelihood(theta: F, h: History, p: BlocRules, keep: NDArray[np.bool_]) -> float:
    """Minus the log-likelihood of the signings of the states in `keep`."""
    rate = hazards(theta, h, p) * h.dt
    event = np.zeros(rate.shape, dtype=bool)
    for i, k in enumerate(h.signed):
        if k >= 0:
            event[k, i] = True
    mask = h.at_risk & keep[None, :]
    with np.errstate(divide="ignore"):
        ll = np.where(event, np.log(-np.expm1(-rate)), -rate)
    return float(-np.sum(np.where(mask, ll, 0.0)))


def fit(h: History, p: BlocRules, keep: NDArray[np.bool_] | None = None) -> F:
    """Maximum-likelihood theta over the states in `keep` (all by default)."""
    keep = np.ones(len(h.states), dtype=bool) if keep is None else keep
    start = np.array(
        [np.log(p.join_rate), p.weight_alignment, p.weight_economy, p.weight_diffusion]
    )
    bounds = [(-12.0, 3.0), (0.0, 20.0), (0.0, 20.0), (0.0, 20.0)]
    best = minimize(neg_log_likelihood, start, args=(h, p, keep), method="L-BFGS-B", bounds=bounds)
    return np.asarray(best.x)


def risk(theta: F, h: History, p: BlocRules) -> F:
    """Each state's cumulative join hazard over the months it could join (its ranking score)."""
    eligible = np.zeros(h.at_risk.shape, dtype=bool)
    first = h.at_risk.argmax(axis=0)
    for i in range(len(h.states)):
        if h.at_risk[:, i].any():
            eligible[first[i] :, i] = True  # eligible from the first month it could join
    return np.asarray((hazards(theta, h, p) * h.dt * eligible).sum(axis=0))


def auc(pos: F, neg: F) -> float:
    """P(a positive outranks a negative), ties one half."""
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (pos.size * neg.size))


@dataclass(frozen=True)
class LeaveOneOut:
    """Out-of-sample scores: each signatory's score from the fit without it, and the
    non-signatories' scores averaged over those fits."""

    auc: float
    p_value: float
    signatory_scores: dict[str, float]
    other_scores: dict[str, float]
    thetas: list[F]


def leave_one_out(
    h: History, p: BlocRules, permutations: int = 10_000, seed: int = 1
) -> LeaveOneOut:
    """Leave-one-signatory-out AUC with a permutation p-value (labels shuffled over the scores)."""
    signers = [i for i, k in enumerate(h.signed) if k >= 0]
    others = [i for i, k in enumerate(h.signed) if k < 0]
    pos, thetas = [], []
    neg = np.zeros(len(others))
    pairs = 0.0
    for i in signers:
        keep = np.ones(len(h.states), dtype=bool)
        keep[i] = False
        theta = fit(h, p, keep)
        thetas.append(theta)
        r = risk(theta, h, p)
        pos.append(r[i])
        neg += r[others]
        pairs += auc(np.array([r[i]]), r[others])
    neg /= len(signers)
    observed = pairs / len(signers)
    scores = np.concatenate([np.array(pos), neg])
    labels = np.r_[np.ones(len(pos), dtype=bool), np.zeros(len(neg), dtype=bool)]
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(permutations):
        shuffled = rng.permutation(labels)
        if auc(scores[shuffled], scores[~shuffled]) >= observed - 1e-12:
            hits += 1
    return LeaveOneOut(
        observed,
        (hits + 1) / (permutations + 1),
        {h.states[i]: float(s) for i, s in zip(signers, pos, strict=True)},
        {h.states[i]: float(s) for i, s in zip(others, neg, strict=True)},
        thetas,
    )


def yearly_counts(h: History) -> dict[int, int]:
    """Observed signatories at each year end, 2017-2023."""
    labels_year = [2017 + k // 12 for k in range(h.at_risk.shape[0])]
    out = {}
    for year in range(2017, 2024):
        last = max(k for k, y in enumerate(labels_year) if y == year)
        out[year] = int(sum(1 for k in h.signed if 0 <= k <= last))
    return out


def band(theta: F, replicates: int = 200, seed: int = 2017) -> dict[int, list[int]]:
    """The model's own year-end signatory counts over replicates, with the fitted rules."""
    from sim.runner import replicate_seeds, run_once

    data = base_data()
    data["rules"] = {"blocs": rules_from(theta)}
    spec = scenario_from_dict(data).scenario
    col_year: dict[int, int] = {}
    out: dict[int, list[int]] = {y: [] for y in range(2017, 2024)}
    for r, s in enumerate(replicate_seeds(seed, replicates)):
        rep = run_once(spec, s, r, collect=False)
        c = rep.names.index("bloc.BRI")
        for y in out:
            step = col_year.setdefault(y, rep.labels.index(f"{y}-12"))
            out[y].append(int(np.count_nonzero(rep.data[step, :, c] > 0)))
    return out


def rules_from(theta: F) -> dict[str, float]:
    """The `rules.blocs` values of a theta, rounded as the defaults are written."""
    return {
        "join_rate": float(f"{np.exp(theta[0]):.3g}"),
        "weight_alignment": float(f"{theta[1]:.3g}"),
        "weight_economy": float(f"{theta[2]:.3g}"),
        "weight_diffusion": float(f"{theta[3]:.3g}"),
    }


@dataclass(frozen=True)
class Report:
    """Everything docs/validation.md reports on the backcast."""

    fitted: dict[str, float]
    loo: LeaveOneOut
    eligible_auc: float
    """The same AUC over the non-signatories that could have joined (GTM and PRY, which
    recognised Taipei throughout, left out)."""
    seen: dict[int, int]
    bands: dict[int, tuple[float, float, float]]
    """Year -> (5%, median, 95%) of the simulated year-end count."""
    replicates: int

    @property
    def inside(self) -> int:
        """Years whose observed count lies inside the 5-95% band."""
        return sum(lo <= self.seen[y] <= hi for y, (lo, _, hi) in self.bands.items())


def report(replicates: int = 200, permutations: int = 10_000) -> Report:
    """Fit, score out of sample and simulate the band (about 30 s)."""
    p = BlocRules()
    h = covariates()
    theta = fit(h, p)
    loo = leave_one_out(h, p, permutations)
    ineligible = {h.states[i] for i in range(len(h.states)) if not h.at_risk[:, i].any()}
    others = {k: v for k, v in loo.other_scores.items() if k not in ineligible}
    eligible_auc = auc(
        np.array(list(loo.signatory_scores.values())), np.array(list(others.values()))
    )
    sims = band(theta, replicates)
    bands = {y: tuple(float(v) for v in np.percentile(c, [5, 50, 95])) for y, c in sims.items()}
    return Report(rules_from(theta), loo, eligible_auc, yearly_counts(h), bands, replicates)  # type: ignore[arg-type]


def plot_band(rep: Report, path: Path) -> None:
    """The observed year-end count of signatories against the model's 5-95% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = sorted(rep.bands)
    lo, mid, hi = (np.array([rep.bands[y][k] for y in years]) for k in range(3))
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=150)
    ax.fill_between(years, lo, hi, color="#9ecae1", alpha=0.7, label="model, 5-95%")
    ax.plot(years, mid, color="#3182bd", lw=1.5, label="model, median")
    ax.plot(
        years, [rep.seen[y] for y in years], "o-", color="#d62728", lw=1.5, label="signed (data)"
    )
    ax.set_xlabel("year end")
    ax.set_ylabel("states in the BRI (of 19)")
    ax.set_title("Belt and Road memoranda in Latin America: backcast from 2017", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
