"""A ZVT payment terminal simulator (the PT side) speaking the real protocol over a real link."""

from payment_terminal.simulator.journal import Journal, JournalEntry
from payment_terminal.simulator.scenarios import AMOUNT_CONVENTIONS, Scenario, scenario_for_amount
from payment_terminal.simulator.terminal import TerminalSimulator


def simulator_for(link: str, speed: float = 1.0) -> TerminalSimulator | None:
    """For the demo link `sim://`: a started in-process simulator on loopback TCP, whose
    `link_url` the ECR then uses. Any other link is a real terminal: None."""
    if link != "sim://":
        return None
    simulator = TerminalSimulator("tcp://127.0.0.1:0", speed=speed)
    simulator.start()
    return simulator


__all__ = [
    "AMOUNT_CONVENTIONS",
    "Journal",
    "JournalEntry",
    "Scenario",
    "TerminalSimulator",
    "scenario_for_amount",
    "simulator_for",
]
