"""Hypothesis profiles shared by the whole suite.

``ci`` (the default): derandomized and bounded, so CI is repeatable; ``dev``: randomized,
more examples; ``fuzz``: long runs for ``ringspec fuzz`` and HypoFuzz; ``mutants``: the
``ci`` runs without shrinking, stopping at the first failure (tests/mutants and mutmut
only ask *whether* a planted bug is caught, not for a minimal example); ``mutmut``: the
same with fewer examples, for ``mutmut run`` over impl/.  Select one with
``HYPOTHESIS_PROFILE=dev pytest``."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    max_examples=200,
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "mutants",
    settings.get_profile("ci"),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    report_multiple_bugs=False,
    print_blob=False,
)
settings.register_profile(
    "mutmut",
    settings.get_profile("mutants"),
    max_examples=40,
    stateful_step_count=30,
)
settings.register_profile(
    "dev", deadline=None, max_examples=1000, stateful_step_count=60, print_blob=True
)
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=100_000,
    stateful_step_count=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
