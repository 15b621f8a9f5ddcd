"""The whole proof suite: the netmap obligations, then the ENA ones."""

from __future__ import annotations

import model
from proofs.ena_obligations import ABSTRACTION_CLAIMS, ena_obligations
from proofs.obligations import Obligation, netmap_obligations


def all_obligations() -> list[Obligation]:
    """Every obligation ``ringspec prove`` discharges, in the order it reports them."""
    return [*netmap_obligations(), *ena_obligations()]


def checked_ids() -> list[str]:
    """Every invariant, contract and abstraction claim: each needs a killed mutant."""
    ids = [i for m in model.ALL_MACHINES for i in m.checked_ids()]
    ids += [f"abstraction-{claim}" for claim in ABSTRACTION_CLAIMS]
    return list(dict.fromkeys(ids))


__all__ = ["all_obligations", "checked_ids"]
