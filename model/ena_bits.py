"""Exact u16 arithmetic for the ENA models: free-running counters, depth 2^k, phase bits,
and small arrays (descriptor memory, id lists), read concretely or on a solver.

Every ENA ring counter (``tail``, ``head``, ``next_to_comp``) is a C ``u16`` that runs
freely and wraps at 65536; the slot is ``counter & (q_depth - 1)``, so depths are powers
of two (:func:`ena_com_free_q_entries` and ``ena_com_cq_inc_head`` in
https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_eth_com.h#L105).

Concrete values are Python ints masked to 16 bits (arrays: tuples); symbolic values are
16-bit bit-vectors (z3 or cvc5.pythonic ``BitVec(16)``; arrays: ``Array(BV16, BV16)``).
The depth is ``1 << depth_log2`` with ``1 <= depth_log2 <= 15`` (q_depth is a u16, so
2^15 is the largest power of two it holds): the proofs leave ``depth_log2`` symbolic, so
every obligation covers every depth 2, 4, ..., 32768 at once.

Comparisons are unsigned (``ULT``/``ULE``): a plain ``<`` on a bit-vector is signed.

Invariants that speak about every slot or every id (:func:`forall_below`) are checked
exhaustively on a concrete state and, on a solver, instantiated at the terms an obligation
supplies (:func:`instantiated_at`): the premise at every term the step touches, the goal at
one fresh variable, which proves it for all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from model.core import And, Eq, Implies, Term, solver_module

U16 = 0xFFFF
MIN_LOG2 = 1
MAX_LOG2 = 15


def concrete(*xs: Term) -> bool:
    return all(isinstance(x, (bool, int, tuple)) for x in xs)


def _mod(*xs: Term) -> Any:
    return solver_module(*[x for x in xs if not isinstance(x, tuple)])


def const16(like: Term, value: int) -> Term:
    """The u16 constant ``value`` in the solver context of the term ``like`` (z3 keeps one
    context per obligation; a constant made in the default one would not mix)."""
    return _mod(like).BitVecVal(value, 16, like.ctx)


def sort16(like: Term) -> Any:
    return _mod(like).BitVecSort(16, like.ctx)


def u16(x: Term) -> Term:
    """x as a C u16 stores it."""
    return x & U16 if isinstance(x, int) else x


def add16(a: Term, b: Term) -> Term:
    return u16(a + b)


def sub16(a: Term, b: Term) -> Term:
    return u16(a - b)


def ult(a: Term, b: Term) -> Term:
    """Unsigned a < b."""
    if concrete(a, b):
        return a < b
    return _mod(a, b).ULT(a, b)


def ule(a: Term, b: Term) -> Term:
    """Unsigned a <= b."""
    if concrete(a, b):
        return a <= b
    return _mod(a, b).ULE(a, b)


def depth(k: Term) -> Term:
    """q_depth = 2^k."""
    return 1 << k if isinstance(k, int) else const16(k, 1) << k


def mask(k: Term) -> Term:
    """q_depth - 1, the slot mask."""
    return sub16(depth(k), 1)


def slot(counter: Term, k: Term) -> Term:
    """The slot a free-running counter points at: ``counter & (q_depth - 1)``."""
    return counter & mask(k)


def bit(x: Term, k: Term) -> Term:
    """Bit k of x (0 or 1)."""
    if concrete(x, k):
        return (x >> k) & 1
    # x & 2^k shares the one shifter of depth(k); LShR(x, k) would build one per x
    like = k if isinstance(x, int) else x
    return ite(Eq(x & depth(k), 0), const16(like, 0), const16(like, 1))


def pass_phase(counter: Term, k: Term) -> Term:
    """The phase of the pass a counter is in: 1 on pass 0, 0 on pass 1, ... (memory starts
    zeroed and ``io_cq->phase`` / ``io_sq->phase`` start at 1), i.e. ``1 ^ bit k``."""
    return 1 ^ bit(counter, k)


def next_masked(i: Term, k: Term) -> Term:
    """ENA_TX_RING_IDX_NEXT(idx, ring_size): ``(idx + 1) & (ring_size - 1)``."""
    return add16(i, 1) & mask(k)


def flag(cond: Term) -> Term:
    """A condition as the 0/1 value C keeps in a flag."""
    if isinstance(cond, bool):
        return int(cond)
    return solver_module(cond).If(cond, const16(cond, 1), const16(cond, 0))


def ite(cond: Term, a: Term, b: Term) -> Term:
    """If over u16 values and arrays (tuples concretely)."""
    if isinstance(cond, bool):
        return a if cond else b
    if isinstance(a, int) and isinstance(b, int):  # two literals would make an Int term
        a, b = const16(cond, a), const16(cond, b)
    return solver_module(cond).If(cond, a, b)


# ---------------------------------------------------------------------------- arrays


class Identity:
    """The array ``x -> x`` over u16 for a symbolic depth (free id lists start as the
    identity).  Read-only: :func:`select` returns the index itself, which both solvers
    understand (cvc5's Python API has no lambda arrays); nothing stores into an initial
    state."""

    def __repr__(self) -> str:
        return "Identity()"


def select(arr: Term, i: Term) -> Term:
    """arr[i]: a tuple index concretely, ``Select`` symbolically (an index past a tuple
    reads 0, as uninitialised memory is modelled)."""
    if isinstance(arr, Identity):
        return i
    if isinstance(arr, tuple) and isinstance(i, int):
        return arr[i] if 0 <= i < len(arr) else 0
    if isinstance(arr, tuple):
        raise TypeError("symbolic index into a concrete array")
    return _mod(arr).Select(arr, i)


def store(arr: Term, i: Term, v: Term) -> Term:
    """arr with arr[i] = v (``Store`` symbolically)."""
    if isinstance(arr, Identity):
        raise TypeError("the identity array of an initial state is read-only")
    if isinstance(arr, tuple) and isinstance(i, int):
        if not 0 <= i < len(arr):
            return arr
        return (*arr[:i], v, *arr[i + 1 :])
    return _mod(arr).Store(arr, i, v)


def zeros(n: int) -> tuple[int, ...]:
    return (0,) * n


def identity(n: int) -> tuple[int, ...]:
    return tuple(range(n))


def filled(k: Term, value: int) -> Term:
    """An array of depth 2^k entries, all ``value``: a tuple, or a constant array."""
    if isinstance(k, int):
        return (value,) * (1 << k)
    return _mod(k).K(sort16(k), const16(k, value))


# ---------------------------------------------------------------------------- quantifiers

_INSTANCES: ContextVar[Sequence[Term] | None] = ContextVar("ena_instances", default=None)


@contextlib.contextmanager
def instantiated_at(terms: Sequence[Term]) -> Iterator[None]:
    """Within this block, a symbolic :func:`forall_below` is the conjunction of its body at
    ``terms`` (each guarded by ``term < bound``)."""
    token = _INSTANCES.set(tuple(terms))
    try:
        yield
    finally:
        _INSTANCES.reset(token)


def forall_below(bound: Term, body: Callable[[Term], Term]) -> Term:
    """For every i with 0 <= i < bound: body(i).

    Concretely every i is checked.  Symbolically the instances come from the enclosing
    :func:`instantiated_at` (a premise instantiated at finitely many terms is implied by the
    quantified one, and a goal proved at a fresh variable holds for all)."""
    if isinstance(bound, int):
        return And(*[body(i) for i in range(bound)])
    terms = _INSTANCES.get()
    if terms is None:
        raise RuntimeError("forall_below on a symbolic state needs instantiated_at(...)")
    return And(*[Implies(ult(t, bound), body(t)) for t in terms])
