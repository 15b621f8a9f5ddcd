"""Host-stack traffic on the same adapter as the hardware rings (ringspec.stateful_host):
every hardware-ring rule and check of the hardened machine, plus the host rings in
lockstep with model/netmap_host, bytes checked end to end.  Example and step counts come
from the Hypothesis profile."""

from ringspec.stateful_host import HostTrafficRings

TestHostTrafficRings = HostTrafficRings.TestCase
