"""Live charging power: the CPO simulator pushes real Sessions over loopback HTTP to our OCPI
receiver; the engine keeps the latest power and the kiosk's charging screen shows it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from kiosk_app.charging.states import State
from kiosk_app.ocpi import events
from kiosk_app.ocpi.simulator.server import Scenario

from .live import Stack, running_stack

# EVSE-1 of the simulator's park charges at 22 kW. One simulated minute per tick, 60 simulated
# seconds per real second: a tick a second, and the session stays ACTIVE until we stop it.
EVSE_KW = Decimal(22)
TICK_KWH = (EVSE_KW / 60).quantize(Decimal("0.001"))  # the simulator's ENERGY per period


def _scenario(power_dimension: bool) -> Scenario:
    return Scenario(speed=60, ticks=60, tick_minutes=1, power_dimension=power_dimension)


@pytest.fixture
def sessions() -> Iterator[list[events.SessionUpdated]]:
    """Every Session the receiver handed to the engine."""
    seen: list[events.SessionUpdated] = []
    unsubscribe = events.subscribe(
        lambda _session, e: seen.append(e) if isinstance(e, events.SessionUpdated) else None
    )
    yield seen
    unsubscribe()


def _charging_screen(stack: Stack, reference: str, language: str) -> dict:
    client = stack.app.test_client()
    with client.session_transaction() as session:
        session["kiosk"] = {"id": "kiosk-1", "lang": language, "ref": reference}
    answer = client.get(
        f"/kiosk/kiosk-1/t/{reference}/status?since=0", headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200
    return answer.get_json()


def _charge_until_power_known(stack: Stack) -> str:
    reference = stack.service.select_evse("kiosk-1", "EVSE-1", "de")
    stack.service.pay(reference)
    stack.wait_for(reference, lambda tx: tx.state == State.CHARGING and tx.power_kw is not None)
    return reference


def _stop(stack: Stack, reference: str) -> None:
    stack.service.stop(reference)
    assert stack.settled(reference).state == State.RECEIPT_ISSUED


def test_power_derived_from_energy_periods_when_the_cpo_sends_no_power(config, sessions):
    with running_stack(config, scenario=_scenario(power_dimension=False)) as stack:
        reference = _charge_until_power_known(stack)

        # The first closed one-minute period: its ENERGY over its length.
        derived = (TICK_KWH * 60).quantize(Decimal("0.001"))
        assert stack.tx(reference).power_kw == derived == Decimal("22.020")
        screen = _charging_screen(stack, reference, "de")
        assert (screen["screen"], screen["fields"]["power"]) == ("charging", "22 kW")
        _stop(stack, reference)
        assert stack.tx(reference).power_kw is None  # the completed session has no power

    active = [s for s in sessions if s.status == "ACTIVE"]
    # One period alone has no known length: no figure rather than a guessed one.
    assert active[0].power_kw is None
    assert {s.power_kw for s in active[1:]} == {derived}
    assert all(s.power_kw is None for s in sessions if s.status != "ACTIVE")


def test_power_dimension_reported_by_the_cpo_is_shown(config, sessions):
    with running_stack(config, scenario=_scenario(power_dimension=True)) as stack:
        reference = _charge_until_power_known(stack)

        assert stack.tx(reference).power_kw == EVSE_KW
        screen = _charging_screen(stack, reference, "en")
        assert screen["fields"]["power"] == "22 kW"
        _stop(stack, reference)

    active = [s for s in sessions if s.status == "ACTIVE"]
    assert active and {s.power_kw for s in active} == {EVSE_KW}
