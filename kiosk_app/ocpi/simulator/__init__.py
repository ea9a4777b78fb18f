"""A CPO simulator speaking real OCPI 2.2.1 (and 2.3.0) over HTTP, for tests, demos and
`kiosk cpo-sim`: a charge park from a JSON fixture, the handshake, Locations and Tariffs,
commands, Session pushes and signed CDRs, with scenario switches for everything that goes
wrong in the field."""

from kiosk_app.ocpi.simulator.server import CpoSimulator, Scenario

__all__ = ["CpoSimulator", "Scenario"]
