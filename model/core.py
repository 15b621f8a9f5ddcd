"""The term vocabulary and the machine registry every model is written in.

Each operator evaluates *concretely* when all its operands are Python ints/bools (that is
the fast test oracle) and *symbolically* when any operand is a solver term (z3, or
cvc5.pythonic for the second-solver check).  Ring arithmetic is written with case splits
(``If``), never with ``%`` on a symbolic ring size: ``mod`` by a non-constant is non-linear
and cvc5 answers ``unknown`` on it (Z3Prover/z3#4172: ``mod`` by a variable is non-linear).

A model is a :class:`Machine`: a frozen state dataclass, an ``init``, transitions that are
pure functions ``(state, **args) -> Step(guard, new_state)``, and invariants with a stable
ID and a one-sentence statement.  ``proofs/`` turns these into obligations, ``tests/`` runs
them as the oracle, the docs generator renders them.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

Term = Any  # a Python int/bool, or a solver term (z3.ExprRef, cvc5.pythonic.ExprRef)

U32_MAX = (1 << 32) - 1


def _concrete(x: Term) -> bool:
    return isinstance(x, (bool, int))


def solver_module(*xs: Term) -> ModuleType | None:
    """The solver API the symbolic operands belong to, or None when all are concrete."""
    for x in xs:
        if _concrete(x):
            continue
        mod = type(x).__module__
        if mod.startswith("cvc5"):
            import cvc5.pythonic as cvc5_pythonic

            return cvc5_pythonic
        import z3

        return z3
    return None


def If(cond: Term, then: Term, other: Term) -> Term:
    if isinstance(cond, bool):
        return then if cond else other
    return solver_module(cond, then, other).If(cond, then, other)


def And(*xs: Term) -> Term:
    rest = []
    for x in xs:
        if x is False:
            return False
        if x is not True:
            rest.append(x)
    if not rest:
        return True
    if len(rest) == 1:
        return rest[0]
    return solver_module(*rest).And(*rest)


def Or(*xs: Term) -> Term:
    rest = []
    for x in xs:
        if x is True:
            return True
        if x is not False:
            rest.append(x)
    if not rest:
        return False
    if len(rest) == 1:
        return rest[0]
    return solver_module(*rest).Or(*rest)


def Not(x: Term) -> Term:
    if isinstance(x, bool):
        return not x
    return solver_module(x).Not(x)


def Implies(a: Term, b: Term) -> Term:
    return Or(Not(a), b)


def Eq(a: Term, b: Term) -> Term:
    """Equality that stays a Python bool on concrete operands (``==`` already does)."""
    return a == b


def Distinct(*xs: Term) -> Term:
    return And(*[Not(Eq(a, b)) for i, a in enumerate(xs) for b in xs[i + 1 :]])


def u32(x: Term) -> Term:
    """x modulo 2^32: what C stores in a uint32_t field.

    x is one sum or difference of u32 values (so -2^32 < x < 2^33)."""
    return If(x < 0, x + (U32_MAX + 1), If(x > U32_MAX, x - (U32_MAX + 1), x))


# ---------------------------------------------------------------------------- ring arithmetic
# All take 0 <= i < n (and 0 <= d <= n where stated) and stay within linear arithmetic.


def ring_next(i: Term, n: Term) -> Term:
    """nm_next / nm_ring_next: the slot after i."""
    return If(Eq(i + 1, n), 0, i + 1)


def ring_prev(i: Term, n: Term) -> Term:
    """nm_prev: the slot before i."""
    return If(Eq(i, 0), n - 1, i - 1)


def ring_add(i: Term, d: Term, n: Term) -> Term:
    """Slot i advanced by d slots, for 0 <= d <= n."""
    return If(i + d >= n, i + d - n, i + d)


def ring_sub(i: Term, d: Term, n: Term) -> Term:
    """Slot i moved back by d slots, for 0 <= d <= n."""
    return If(i >= d, i - d, i - d + n)


def ring_dist(a: Term, b: Term, n: Term) -> Term:
    """Number of slots from a forward to b: |[a, b)|, in [0, n)."""
    return If(b >= a, b - a, b - a + n)


def in_range(i: Term, n: Term) -> Term:
    """0 <= i < n."""
    return And(i >= 0, i < n)


def in_cyclic(lo: Term, x: Term, hi: Term, n: Term) -> Term:
    """x lies in the cyclic interval [lo .. hi], both ends inclusive (all three in range)."""
    return ring_dist(lo, x, n) <= ring_dist(lo, hi, n)


def cyclic_order(points: Iterable[Term], n: Term) -> Term:
    """Going forward once around the ring from points[0] meets the points in order.

    The forward distances between consecutive points (and from the last back to the first)
    sum to exactly one lap.  Equal neighbours count as distance 0, so a degenerate list of
    equal points (sum 0) is *not* in order: callers that need an empty gap say so."""
    pts = list(points)
    total = 0
    for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
        total = total + ring_dist(a, b, n)
    return Eq(total, n)


# ---------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Step:
    """Result of a transition: the guard under which it may fire, and the state after."""

    guard: Term
    post: Any


@dataclass(frozen=True)
class Var:
    """A state variable: who writes it, its domain, and what it means."""

    name: str
    owner: str  # "user", "kernel", "device", "ghost", "constant"
    domain: str  # "size", "index", "u32", "count"
    doc: str


@dataclass(frozen=True)
class Param:
    """An argument of a transition, with the bounds a symbolic reading needs."""

    name: str
    domain: str  # "count" (0..n), "u32" (any user-written value), "bool"
    doc: str


@dataclass(frozen=True)
class Transition:
    """A pure step ``fn(state, **args) -> Step``.

    ``view`` says how the step relates to the user's view of the ring:
    ``"keeps"``: needs and keeps a consistent view (well-behaved user, device steps);
    ``"restores"``: re-establishes the view whatever the user wrote (syncs, reinit);
    ``"breaks"``: adversarial user writes; only kernel invariants must survive.

    ``breaks`` lists the invariant IDs a faithful (as-shipped) step is *expected* not to
    preserve: the proofs must refute exactly those, which makes the finding part of the
    run rather than a failure of it.

    A kernel step's guard says when the C returns: every kernel step must be enabled in
    every state the kernel invariants allow (obligation ``total``), except one marked
    ``may_hang``, where the C can loop forever and the refutation is the finding."""

    name: str
    fn: Callable[..., Step]
    params: tuple[Param, ...]
    actor: str  # "user", "kernel", "device", "adversary"
    view: str = "keeps"
    breaks: frozenset[str] = frozenset()  # invariants the as-shipped code is known to break
    may_hang: bool = False  # a kernel step the C may never return from (a finding)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")

    def __call__(self, state: Any, **args: Term) -> Step:
        return self.fn(state, **args)


@dataclass(frozen=True)
class Invariant:
    """A predicate with a stable ID and a one-sentence statement.

    ``scope`` is ``"kernel"`` (holds in every reachable state, adversarial user included) or
    ``"user"`` (the user's view is consistent: holds while the user is well-behaved and is
    re-established by every sync)."""

    id: str
    sentence: str
    fn: Callable[[Any], Term]
    scope: str = "kernel"

    def __call__(self, state: Any) -> Term:
        return self.fn(state)


@dataclass(frozen=True)
class Mutant:
    """A deliberately broken step (or init) the proofs must refute for ``invariant``.

    ``replaces`` names the transition (or ``"init"``) it stands in for."""

    id: str
    invariant: str
    replaces: str
    fn: Callable[..., Any]
    doc: str


@dataclass
class Machine:
    """A model: state type, variables, init, transitions, invariants and mutants."""

    name: str
    title: str
    state_type: type
    vars: tuple[Var, ...]
    init: Callable[[Term], Any]
    doc: str = ""
    transitions: dict[str, Transition] = field(default_factory=dict)
    invariants: dict[str, Invariant] = field(default_factory=dict)
    mutants: dict[str, Mutant] = field(default_factory=dict)
    min_n: int = 2
    max_n: int | None = None  # a bound the model's C arithmetic needs (None: any N)

    def size_ok(self, n: Term) -> Term:
        """The ring sizes the machine is stated for: min_n <= N (<= max_n)."""
        return And(n >= self.min_n, n <= self.max_n if self.max_n is not None else True)

    @property
    def size_text(self) -> str:
        """The same, in words, for the docs."""
        upper = f" <= N <= {self.max_n}" if self.max_n is not None else ""
        return f"{self.min_n}{upper}" if upper else f"any N >= {self.min_n}"

    def checked_ids(self) -> list[str]:
        """Every invariant ID: each needs a killed mutant."""
        return list(self.invariants)

    def transition(
        self,
        *,
        actor: str,
        view: str = "keeps",
        params: tuple[Param, ...] = (),
        name: str = "",
        breaks: Iterable[str] = (),
        may_hang: bool = False,
    ) -> Callable[[Callable[..., Step]], Callable[..., Step]]:
        def register(fn: Callable[..., Step]) -> Callable[..., Step]:
            tname = name or fn.__name__
            if tname in self.transitions:
                raise ValueError(f"{self.name}: transition {tname!r} registered twice")
            self.transitions[tname] = Transition(
                tname, fn, params, actor, view, frozenset(breaks), may_hang
            )
            return fn

        return register

    def invariant(self, inv_id: str, sentence: str, scope: str = "kernel") -> Callable:
        def register(fn: Callable[[Any], Term]) -> Callable[[Any], Term]:
            if inv_id in self.invariants:
                raise ValueError(f"{self.name}: invariant {inv_id!r} registered twice")
            self.invariants[inv_id] = Invariant(inv_id, sentence, fn, scope)
            return fn

        return register

    def mutant(self, mutant_id: str, invariant: str, replaces: str) -> Callable:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.mutants[mutant_id] = Mutant(
                mutant_id, invariant, replaces, fn, inspect.cleandoc(fn.__doc__ or "")
            )
            return fn

        return register

    # -- evaluation helpers used by tests, proofs and docs ---------------------------------

    def kernel_invariants(self) -> list[Invariant]:
        return [i for i in self.invariants.values() if i.scope == "kernel"]

    def user_invariants(self) -> list[Invariant]:
        return [i for i in self.invariants.values() if i.scope == "user"]

    def holds(self, state: Any, *, user_view: bool = True) -> Term:
        """Conjunction of the kernel invariants (and the user-view ones if asked)."""
        invs = self.kernel_invariants() + (self.user_invariants() if user_view else [])
        return And(*[inv(state) for inv in invs])

    def violated(self, state: Any, *, user_view: bool = True) -> list[str]:
        """IDs of the invariants a *concrete* state violates."""
        invs = self.kernel_invariants() + (self.user_invariants() if user_view else [])
        return [inv.id for inv in invs if not inv(state)]


def state_fields(state: Any) -> dict[str, Term]:
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
