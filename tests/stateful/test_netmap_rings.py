"""The model drives the implementation (ringspec.stateful): hardened rings must never
break an invariant or diverge from the model; as-shipped rings must reproduce the
faithful model exactly, findings included; with a well-behaved user, every slot, byte
and NIC descriptor is checked for the whole run.  Example and step counts come from the
Hypothesis profile (``ci``: 200 examples of up to 40 steps each)."""

from hypothesis import settings

from ringspec.stateful import AsShippedRings, HardenedRings, WellBehavedRings

TestHardenedRings = HardenedRings.TestCase
TestWellBehavedRings = WellBehavedRings.TestCase
TestAsShippedRings = AsShippedRings.TestCase

# The well-behaved machine carries the data checks, whose bugs need longer sequences (an
# RX reset while the user holds slots, then a refill: tests/mutants plant b): five times the
# profile's examples.
TestWellBehavedRings.settings = settings(
    settings.default, max_examples=5 * settings.default.max_examples)
