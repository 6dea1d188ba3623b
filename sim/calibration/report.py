"""The calibration report: targets against the model, base rates and mechanisms, as rich tables
and as a JSON-ready dict (`geosim calibrate --out`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.table import Table

from sim.calibration.mechanisms import MECHANISMS, MIN_SHARE
from sim.calibration.scores import Score
from sim.calibration.targets import OUTCOMES

if TYPE_CHECKING:
    from sim.calibration.fit import FitOutcome, Parameter
    from sim.calibration.harness import Results
    from sim.calibration.targets import Targets

FORMAT_VERSION = 1
"""Version of the `--out` JSON layout."""


@dataclass
class Report:
    """Everything one calibration run found."""

    scores: list[Score]
    base_rates: dict[str, float]
    mechanisms: dict[str, float]
    episodes: int
    scored: int
    seconds: float
    settings: dict[str, Any]
    """Episodes per pair, seed, overrides, salience values, batch size, workers."""

    @property
    def passed(self) -> bool:
        """Every target with role `fit` is met (checks are reported, not required)."""
        return all(s.passed for s in self.scores if s.role == "fit")

    def as_dict(self, fit: dict[str, Any] | None = None) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "format_version": FORMAT_VERSION,
            "settings": self.settings,
            "episodes": self.episodes,
            "scored": self.scored,
            "seconds": round(self.seconds, 3),
            "episodes_per_second": round(self.episodes / self.seconds, 1) if self.seconds else None,
            "all_passed": self.passed,
            "scores": [s.as_dict() for s in self.scores],
            "base_rates": self.base_rates,
            "mechanisms": {
                name: {"share": share, "at_least_min": share >= MIN_SHARE}
                for name, share in self.mechanisms.items()
            },
            "min_mechanism_share": MIN_SHARE,
            "fit": fit,
        }


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}%"


def _verdict(s: Score) -> str:
    if s.role == "check":
        return "[dim]ok (check)[/dim]" if s.passed else "[yellow]off (check)[/yellow]"
    return "[green]PASS[/green]" if s.passed else "[red]FAIL[/red]"


def targets_table(scores: Sequence[Score]) -> Table:
    """Targets vs model: value, interval, pass or fail."""
    table = Table(title="Targets vs model (scored episodes)", title_justify="left")
    for col in ("target", "wanted", "model", "95% interval", "n", "result"):
        table.add_column(col, justify="left" if col in ("target", "wanted") else "right")
    for s in scores:
        if s.kind == "share":
            wanted = f"{_pct(s.target)} ± {100 * (s.tolerance or 0):.0f} pp"
            model, interval = _pct(s.value), f"{_pct(s.low)} to {_pct(s.high)}"
        else:
            wanted = f"A - B {'>' if s.sign == 'positive' else '<'} 0"
            model = f"{_pct(s.value, True)} pp (A {_pct(s.share_a)}, B {_pct(s.share_b)})"
            interval = f"{_pct(s.low, True)} to {_pct(s.high, True)} pp"
        table.add_row(s.id, wanted, model, interval, str(s.n), _verdict(s))
    return table


def rates_table(base_rates: dict[str, float], mechanisms: dict[str, float]) -> Table:
    """Base rates of the outcomes, and how often each mechanism fires."""
    table = Table(title="Base rates and mechanisms (scored episodes)", title_justify="left")
    table.add_column("quantity")
    table.add_column("share", justify="right")
    table.add_column("note")
    for name, share in base_rates.items():
        note = "outcome" if name in OUTCOMES else "rate" if "_among_" in name else "outcomes"
        table.add_row(name, _pct(share), note)
    for name, share in mechanisms.items():
        low = share < MIN_SHARE
        note = MECHANISMS[name].description + (
            f" [red](below {MIN_SHARE:.0%})[/red]" if low else ""
        )
        table.add_row(f"mechanism: {name}", _pct(share), note)
    return table


def fit_dict(
    outcome: FitOutcome, parameters: Sequence[Parameter], start: dict[str, float]
) -> dict[str, Any]:
    """The fit for the JSON report: values, start, bounds, loss, evaluations, history."""
    return {
        "parameters": [
            {
                "path": p.path,
                "fitted": outcome.values[p.path],
                "start": start[p.path],
                "low": p.low,
                "high": p.high,
                "log": p.log,
                "moves": p.moves,
            }
            for p in parameters
        ],
        "loss": outcome.loss,
        "evaluations": outcome.evaluations,
        "history": [{"values": v, "loss": loss} for v, loss in outcome.history],
    }


def fit_table(
    outcome: FitOutcome, parameters: Sequence[Parameter], start: dict[str, float]
) -> Table:
    """Fitted values (to be put into the rule defaults by hand)."""
    table = Table(
        title=f"Fitted values (loss {outcome.loss:.3g}, {outcome.evaluations} evaluations)",
        title_justify="left",
    )
    for col in ("parameter", "fitted", "start", "bounds", "moves"):
        table.add_column(col, justify="right" if col in ("fitted", "start") else "left")
    for p in parameters:
        scale = "log" if p.log else "linear"
        table.add_row(
            p.path,
            f"{outcome.values[p.path]:.4g}",
            f"{start[p.path]:.4g}",
            f"[{p.low:g}, {p.high:g}] {scale}",
            p.moves,
        )
    return table


def build_report(results: Results, targets: Targets, settings: dict[str, Any], seed: int) -> Report:
    """Score the targets (bootstrap seeded with `seed`), base rates and mechanism shares."""
    from sim.calibration.scores import base_rates, mechanism_shares, score_targets

    eps = results.episodes
    return Report(
        scores=score_targets(targets, eps, results.outcomes, seed=seed),
        base_rates=base_rates(eps, results.outcomes),
        mechanisms=mechanism_shares(eps, results.mechanisms),
        episodes=len(eps),
        scored=sum(e.scored for e in eps),
        seconds=results.seconds,
        settings=settings,
    )
