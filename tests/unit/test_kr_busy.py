"""nm_kr_tryget as the implementation answers it (``Krings.stopped`` / ``busy``, checked
before a sync in impl/netmap/sync.py) against :mod:`model.netmap_kr_busy`: for each state
of the ring's two words the model reaches with thread ``a`` outside, ``a``'s three steps
run back to back give the answer the implementation gives -- sync, NM_KR_BUSY (skipped,
no error) or NM_KR_STOPPED (skipped, EIO)."""

from __future__ import annotations

import errno

import pytest

from impl.netmap.adapter import NetmapAdapter
from model import KR_BUSY
from model.netmap_kr_busy import KrBusy, kr_busy_init

IDLE = kr_busy_init(8)
STATES = {
    "running, nobody syncing": IDLE,
    "thread b syncing": IDLE.replace(busy=1, b_pc=3, b_got=1),
    "stop flag set, stopper waiting": IDLE.replace(stopped=1, s_pc=1),
    "stopped: the stopper owns the bit": IDLE.replace(stopped=1, busy=1, s_pc=2),
    "restarting: flag cleared, bit not yet": IDLE.replace(busy=1, s_pc=3),
}


def model_answer(s: KrBusy) -> str:
    """Thread a's nm_kr_tryget, its three steps with nothing in between."""
    for step in ("a_first_check", "a_test_and_set", "a_second_check"):
        if s.a_pc == 0 and step != "a_first_check":
            break
        out = KR_BUSY.transitions[step](s)
        assert out.guard, (step, s)
        s = out.post
    if s.a_pc == 3:
        return "sync"
    return "busy" if s.busy_stopped == 0 and not s.stopped else "stopped"


@pytest.mark.parametrize("name", list(STATES))
def test_the_implementation_answers_as_nm_kr_tryget(name: str) -> None:
    s = STATES[name]
    assert KR_BUSY.violated(s) == [], s
    ad = NetmapAdapter(1, 1, 8)
    ad.tx.stopped[0], ad.tx.busy[0] = bool(s.stopped), bool(s.busy)
    res = ad.txsync(0)
    got = ("stopped" if res.skipped[0] and not res.busy[0]
           else "busy" if res.busy[0] else "sync")
    assert got == model_answer(s), (name, res)
    assert res.errno == (errno.EIO if got == "stopped" else 0)
