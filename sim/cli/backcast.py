"""`geosim backcast-blocs`: the bloc hazard against the Belt and Road signings, 2017-2023."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sim.cli.common import EXIT_FAILED, handle_errors, out


@click.command("backcast-blocs")
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(min=10),
    default=200,
    show_default=True,
    help="Simulated backcasts for the band.",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=100),
    default=10_000,
    show_default=True,
    help="Label permutations for the AUC's p-value.",
)
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the band figure (PNG) to this file.",
)
@click.pass_context
def backcast_blocs(
    ctx: click.Context, replicates: int, permutations: int, figure: Path | None
) -> None:
    """Fit the membership hazard to the BRI signings of 2017-2023 (backcast_bri_2017), score it
    leaving one signatory out at a time, and check the year-end counts against the model's own
    5-95% band. Exit 0 when the out-of-sample AUC is at least 0.7 and at least 6 of the 7 years
    lie in the band, 1 otherwise (docs/validation.md)."""
    with handle_errors(ctx):
        from sim.calibration.bri import plot_band, report

        rep = report(replicates, permutations)
        out.print(
            "fitted (the defaults of rules.blocs): "
            + ", ".join(f"{k} {v:g}" for k, v in rep.fitted.items())
        )
        out.print(
            f"leave-one-signatory-out AUC {rep.loo.auc:.3f} (permutation p {rep.loo.p_value:.4f}); "
            f"{rep.eligible_auc:.3f} against the non-signatories that could have joined"
        )
        for year, (lo, mid, hi) in rep.bands.items():
            seen = rep.seen[year]
            mark = "inside" if lo <= seen <= hi else "OUTSIDE"
            out.print(
                f"{year}: signed {seen:2d}, model {lo:.0f}-{hi:.0f} (median {mid:.0f}) {mark}"
            )
        out.print(f"{rep.inside} of 7 years inside the band ({rep.replicates} replicates)")
        if figure is not None:
            plot_band(rep, figure)
            out.print(f"figure: {figure}")
        if rep.loo.auc < 0.7 or rep.inside < 6:
            sys.exit(EXIT_FAILED)
