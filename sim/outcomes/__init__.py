"""Run outcomes: the standard ones, and outcomes users define with a small expression language.

Standard outcomes, per date D (`end`, then every extra date of `OutcomeSpec.dates`):
`mean_tilt@D`, `tilt.<S>@D`, `tilt_change.<S>@D`, `bloc.<B>.<S>@D` and the log counts
(`threats@D`, `complied@D`, ...); then `expect.<id>` for each scenario expectation (true/false);
then the custom outcomes, `name: expression` in `OutcomeSpec.custom`.

The expression language (nothing in it is ever run as Python)::

    expr    := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?      # no chains
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | variable | variable '[' STATE ']' | call | '(' expr ')'
    call    := ('mean' | 'min' | 'max' | 'share') '(' expr [',' 'over' '=' OVER] ')'
             | 'at' '(' expr ',' DATE ')'          # DATE: YYYY-MM, or the words start / end
    OVER    := 'states' | 'replicates'
    variable:= NAME ('.' NAME)*          # tilt, affinity.USA, bloc.BRICS, policy.common_currency

NUMBER is a decimal (`1`, `0.5`, `.5`, `1e-3`). DATE is exactly `YYYY-MM` and only allowed as the
second argument of `at`: for arithmetic write `2025 - 3` with spaces. Keywords: and or not over
states replicates start end mean min max share at. Only ASCII letters, digits and the symbols
above are allowed; whitespace is ignored. A number must be finite (`1e309` is refused).

Limits (`sim.outcomes.parse`): an expression has at most 10,000 characters (a sum of thousands
of terms is fine) and at most 50 levels of nesting (parentheses, function calls, `-` and `not`
inside one another).

Meaning:

- A variable (`tilt`, `exports.CHN`, `bloc.BRICS` 0 none/1 partner/2 member, `policy.X` 0/1) is
  one value per state; `tilt[MEX]` is the value of one state. Numbers are one value. Arithmetic
  and comparisons combine one value with a value per state state by state.
- `mean`, `min`, `max` and `share` of a value per state reduce it over states (`over=states`
  is the default). `share` takes true/false values and gives the fraction true. Unknown values
  (NaN) are left out of every reduction.
- Comparisons give true/false; `and`, `or`, `not` need true/false; true/false count as 1/0 in
  arithmetic and in mean/min/max. Division by zero gives NaN (not known), never an error, and
  so does a result too large for a float (`1e308 * 10`): no outcome is ever infinite.
- Variables are read at the end of the run, or at the date of an enclosing `at(expr, DATE)`
  (`start` is the initial condition); `at` cannot be nested; the date must lie in the horizon.
- `f(x, over=replicates)` makes the outcome point-level: one value per design point, reducing
  `x` (one value per run) across the point's replicates. Every variable of such an outcome must
  be inside a reduction over replicates: `mean(tilt[BOL], over=replicates) - 0.1` is fine,
  `mean(tilt[BOL], over=replicates) - tilt[PAN]` is not.
- An outcome is one value: `tilt > 0` is a value per state, so `share(tilt > 0)` or
  `tilt[MEX] > 0` is needed.

Examples: `share(bloc.BRICS == 2)`, `at(tilt[BOL], 2026-06) - at(tilt[BOL], start)`,
`share(tilt[PAN] < 0, over=replicates)`, `not policy.common_currency[BRA] > 0`.
"""

from sim.outcomes.compile import Compiled, compile_expression
from sim.outcomes.nodes import ExpressionError
from sim.outcomes.outcome_set import OutcomeSet
from sim.outcomes.scope import Scope, scenario_variables
from sim.outcomes.spec import OutcomeError, OutcomeProblem, OutcomeSpec

__all__ = [
    "Compiled",
    "ExpressionError",
    "OutcomeError",
    "OutcomeProblem",
    "OutcomeSet",
    "OutcomeSpec",
    "Scope",
    "compile_expression",
    "scenario_variables",
]
