"""The whole proof suite: the netmap obligations, poll's, the NS_FORWARD swap's, then the
ENA ones."""

from __future__ import annotations

import model
from proofs.ena_obligations import ABSTRACTION_CLAIMS, ena_obligations
from proofs.obligations import Obligation, netmap_obligations
from proofs.poll_obligations import claim_ids as poll_claim_ids
from proofs.poll_obligations import poll_obligations
from proofs.swap_obligations import claim_ids as swap_claim_ids
from proofs.swap_obligations import swap_obligations


def all_obligations() -> list[Obligation]:
    """Every obligation ``ringspec prove`` discharges, in the order it reports them."""
    return [*netmap_obligations(), *poll_obligations(), *swap_obligations(),
            *ena_obligations()]


def checked_ids() -> list[str]:
    """Every invariant, contract, poll claim and abstraction claim: each needs a killed
    mutant."""
    ids = [i for m in model.ALL_MACHINES for i in m.checked_ids()]
    ids += poll_claim_ids()
    ids += swap_claim_ids()
    ids += [f"abstraction-{claim}" for claim in ABSTRACTION_CLAIMS]
    return list(dict.fromkeys(ids))


__all__ = ["all_obligations", "checked_ids"]
