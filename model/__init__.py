"""ringspec's executable specification: every state variable, transition and invariant,
written once over the term vocabulary of :mod:`model.core`.

Importing this package registers every machine and its mutants; :data:`MACHINES` lists
them in the order the proofs and the docs present them.
"""

from model import netmap_ring_mutants as _mutants  # noqa: F401  (registers the mutants)
from model.netmap_legacy import LEGACY_RX, LEGACY_TX
from model.netmap_ring import RX, TX

MACHINES = (TX, RX, LEGACY_TX, LEGACY_RX)

__all__ = ["LEGACY_RX", "LEGACY_TX", "MACHINES", "RX", "TX"]
