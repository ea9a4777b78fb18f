"""Per-transaction scenarios: chosen through the control API, or by the amount's last two digits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Scenario(Enum):
    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    CARD_UNREADABLE = "card_unreadable"
    CUSTOMER_ABORT = "customer_abort"
    PIN_RETRY = "pin_retry"
    PIN_ERROR = "pin_error"
    NO_CARD = "no_card"
    DISCONNECT = "disconnect"
    LOST_STATUS_INFORMATION = "lost_status_information"
    # Transport faults, armed for the next frame the simulator sends or receives.
    CORRUPT_CRC = "corrupt_crc"
    MISSING_ACK = "missing_ack"
    SLOW_ACK = "slow_ack"


TRANSPORT_FAULTS = frozenset({Scenario.CORRUPT_CRC, Scenario.MISSING_ACK, Scenario.SLOW_ACK})


@dataclass(frozen=True)
class Plan:
    """A scenario with its parameters (the result code of a decline)."""

    scenario: Scenario = Scenario.APPROVE
    result_code: int = 0x05


# Minor-unit amounts ending in these two digits pick a scenario (for the demo).
AMOUNT_CONVENTIONS: dict[int, Plan] = {
    91: Plan(Scenario.DECLINE, 0x05),
    92: Plan(Scenario.INSUFFICIENT_FUNDS, 0x33),
    93: Plan(Scenario.CARD_UNREADABLE, 0x64),
    94: Plan(Scenario.CUSTOMER_ABORT, 0x6C),
    95: Plan(Scenario.PIN_RETRY),
    96: Plan(Scenario.NO_CARD, 0x6C),
    97: Plan(Scenario.DISCONNECT),
    98: Plan(Scenario.LOST_STATUS_INFORMATION),
    99: Plan(Scenario.PIN_ERROR, 0x37),
}

_DEFAULT_CODES = {plan.scenario: plan.result_code for plan in AMOUNT_CONVENTIONS.values()}


def scenario_for_amount(amount_minor: int) -> Plan:
    return AMOUNT_CONVENTIONS.get(amount_minor % 100, Plan())


def plan(name: str, result_code: int | None = None) -> Plan:
    """A plan by scenario name; raises ValueError for unknown names."""
    scenario = Scenario(name)
    code = result_code if result_code is not None else _DEFAULT_CODES.get(scenario, 0x05)
    return Plan(scenario, code)
