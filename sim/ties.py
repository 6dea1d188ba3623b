"""Ties between states and powers (trade, capital, blocs, engagement, sphere) and the affinity
they pull each state toward; the alignment step moves affinities toward that target."""

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
        """Each tie's shares per power and the mask of states where it is known."""
        a, al, eco = self.rules.alignment, self.alignment, self.economy
        known_all = np.ones(self.n_states, dtype=bool)
        bloc = rules.bloc_tie(self.membership.ties, a.bloc_half_saturation)
        eng = al.engagement[None, :] + al.lasting + al.pulse
        eng = eng / eng.sum(axis=1, keepdims=True)
        return {
            "trade": rules.trade_tie(eco.exports, eco.imports),
            "fdi": rules.shares(eco.fdi),
            "debt": rules.debt_tie(eco.debt, eco.gdp, a.debt_half_saturation),
            "bloc": (bloc, known_all),
            "engagement": (eng, known_all),
            "sphere": (al.sphere, known_all),
        }

    def target_from_ties(self) -> F:
        """Target affinity from ties alone (before coercion and neighbours)."""
        w = self.rules.alignment.weights
        ties = self.alignment.ties
        return rules.target_affinity([(getattr(w, n), c, k) for n, (c, k) in ties.items()])

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
        den = np.zeros(self.n_states)
        for name in ("trade", "fdi", "debt"):
            comp, known = ties[name]
            num += np.where(known[:, None], comp, 0.0)
            den += known
        has = den > 0
        even = 1.0 / self.n_powers
        self.economy.dependence = np.where(has[:, None], num / np.maximum(den, 1)[:, None], even)

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
