"""Ties between states and powers (trade, capital, blocs, engagement, sphere) and the affinity
they pull each state toward; the alignment step moves affinities toward that target.

Every tie of a state with a power depends on that pair alone (trade as a share of the state's
trade with everyone, the rest of the world included; stocks against GDP), so each power's affinity
is its own quantity in [0, 1] and the tilt between two powers does not move when a third is
added."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import rules
from sim.modelbase import ModelBase

F = NDArray[np.float64]


class Ties(ModelBase):
    """Tie and alignment operations of a `GeoModel` (a mixin over its containers)."""

    def tilt(self) -> F:
        """Tilt of every state between the two tilt powers, in [-1, 1]."""
        return rules.tilt(self.alignment.affinity, *self.alignment.tilt_pair)

    def compute_ties(self) -> dict[str, tuple[F, NDArray[np.bool_]]]:
        """Each tie per state and power, in [0, 1], and where it is known (unknown economic
        ties imputed from the states where they are known, `rules.impute`)."""
        a, al, eco = self.rules.alignment, self.alignment, self.economy
        known_all = np.ones((self.n_states, self.n_powers), dtype=bool)
        trade = rules.trade_tie(eco.exports, eco.imports, eco.rest_exports, eco.rest_imports)
        fdi = rules.intensity_tie(eco.fdi, eco.gdp, a.fdi_half_saturation)
        debt = rules.intensity_tie(eco.debt, eco.gdp, a.debt_half_saturation)
        bloc = rules.bloc_tie(self.membership.ties, a.bloc_half_saturation)
        eng = rules.engagement_tie(al.engagement + al.lasting + al.pulse)
        fill = rules.impute if a.impute else rules.known_only
        return {
            "trade": fill(trade),
            "fdi": fill(fdi),
            "debt": fill(debt),
            "bloc": (bloc, known_all),
            "engagement": (eng, known_all),
            "sphere": (al.sphere, known_all),
        }

    def target_from_ties(self) -> F:
        """Target affinity from ties and lasting orientation (before coercion and neighbours)."""
        w = self.rules.alignment.weights
        ties = self.alignment.ties
        target = rules.target_affinity([(getattr(w, n), c, k) for n, (c, k) in ties.items()])
        return np.asarray(np.clip(target + self.alignment.orientation, 0.0, 1.0))

    def initial_affinity(self) -> F:
        """Given affinities where the scenario has them; elsewhere the ties' fixed point."""
        ties = self.target_from_ties()
        a = ties.copy()
        given = np.zeros(self.n_states, dtype=bool)
        for i, st in enumerate(self.spec.states.values()):
            if st.alignment is not None:
                given[i] = True
                for p, v in st.alignment.items():
                    a[i, self.index.power[p]] = v
        al = self.alignment
        # Derived states start where ties and neighbours hold them (so nothing moves unprompted).
        for _ in range(50):
            peer, has = rules.neighbour_mean(a, al.edge_src, al.edge_dst)
            held = rules.with_peers(ties, peer, has, self.rules.alignment)
            new = np.where(given[:, None], a, held)
            if np.max(np.abs(new - a)) < 1e-12:
                break
            a = new
        return np.asarray(a)

    def refresh_ties(self) -> None:
        """Recompute the ties and the economic dependence derived from them."""
        ties = self.alignment.ties = self.compute_ties()
        num = np.zeros((self.n_states, self.n_powers))
        den = np.zeros((self.n_states, self.n_powers))
        for name in ("trade", "fdi", "debt"):
            comp, known = ties[name]
            num += np.where(known, comp, 0.0)
            den += known
        self.economy.dependence = np.where(den > 0, num / np.maximum(den, 1), 0.0)

    def move_affinities(self) -> None:
        """Affinities move toward ties + coercion, blended with neighbours, with noise."""
        p, al = self.rules.alignment, self.alignment
        target = np.clip(self.target_from_ties() + al.coercion, 0.0, 1.0)
        peer, has = rules.neighbour_mean(al.affinity, al.edge_src, al.edge_dst)
        target = rules.with_peers(target, peer, has, p)
        shocks = self.rng.standard_normal(al.affinity.shape)
        al.affinity = rules.alignment_step(al.affinity, target, p, self.dt, shocks)
        al.coercion *= rules.decay(p.coercion_half_life_years, self.dt)
        al.pulse *= rules.decay(p.engagement_half_life_years, self.dt)
