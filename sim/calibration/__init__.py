"""The coercion calibration (issue 9): the population it runs on and the targets it must meet.

Committed before any fitting. `targets` (targets.yaml: published shares with tolerances and
directional findings, each mapped onto threat-episode outcomes and cited), `population`
(population.yaml: sender-target pairs with sourced quantities, the salience levels and the priors
over stakes; `expand` draws episodes from them), `sourcedata` (rebuilds the pairs from
../shared/data, so that a test can check that every number came from there). Step 2 scores the
model against them: `episodes` (an episode as a world's state and threat; outcomes from the
log), `mechanisms` (what fires, from the log), `harness` (many episodes per world, batches,
workers), `scores` (targets with bootstrap intervals), `fit` (the fitting procedure), `report`
(tables and JSON for `geosim calibrate`). Only `harness` runs the model (imported lazily).
docs/calibration.md explains every choice.
"""
