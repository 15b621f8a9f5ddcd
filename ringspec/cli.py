"""The ``ringspec`` console script: ``prove``, ``fuzz``, ``docs``, ``bench``, ``modes``,
``faults`` and ``ena-netmap``."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

USAGE = """usage: ringspec COMMAND [options]

commands:
  prove   discharge every proof obligation of the model (python -m proofs)
  fuzz    run a stateful fuzz campaign of the model against the implementation
  docs    regenerate docs/ from the model and a proof run
  bench   time the datapath loops against their slot-at-a-time port and the numpy floor
  modes   compare the classic and the RFC way of entering and leaving netmap mode
  faults  run every ENA fault knob with traffic and report what the driver did
  ena-netmap  run each finding of netmap on ENA, as shipped and hardened

Run `ringspec COMMAND --help` for a command's options."""


def _prove(argv: list[str]) -> int:
    from proofs.runner import main

    return main(argv)


def _fuzz(argv: list[str]) -> int:
    from ringspec.fuzz import main

    return main(argv)


def _docs(argv: list[str]) -> int:
    from ringspec.docgen import main

    return main(argv)


def _bench(argv: list[str]) -> int:
    from ringspec.bench import main

    return main(argv)


def _modes(argv: list[str]) -> int:
    from ringspec.modes import main

    return main(argv)


def _faults(argv: list[str]) -> int:
    from ringspec.faults import main

    return main(argv)


def _ena_netmap(argv: list[str]) -> int:
    from ringspec.ena_netmap_run import main

    return main(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "prove": _prove, "fuzz": _fuzz, "docs": _docs, "bench": _bench, "modes": _modes,
    "faults": _faults, "ena-netmap": _ena_netmap,
}


def main(argv: list[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):  # `ringspec prove | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"ringspec: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return command(args[1:])
