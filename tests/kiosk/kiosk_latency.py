"""How long a status change takes from the server to the screen (issue 8: within one second).

The page reports, with the browser's clock, every screen it shows, every change of its
`aria-live` region and of the energy figure; the engine's database says when each event reached
the server (`ChargingEvent.created_at`, the same machine's clock). A change's delay is the time
from its event to the first matching change on the screen. The figures are collected over the
test session and printed in pytest's summary (docs/benchmarks.md, "kiosk").
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import Page

from kiosk_app.charging.states import State
from kiosk_app.models.charging import ChargingEvent, ChargingTransaction

# Status change → screen delays measured by the journeys of this run: (what, seconds).
STATUS_DELAYS: list[tuple[str, float]] = []
# Page weights measured in this run: (screen, bytes with assets, cold cache).
PAGE_WEIGHTS: list[tuple[str, int]] = []
# In every document the page loads: report the screen and each change of the live parts.
WATCH_JS = """(() => {
  const say = what => window.kioskSaw && window.kioskSaw(what, Date.now());
  document.addEventListener("DOMContentLoaded", () => {
    say("screen:" + document.body.dataset.screen);
    [["live", document.getElementById("live")],
     ["energy", document.querySelector('[data-field="energy"]')]].forEach(([name, el]) => {
      if (!el) { return; }
      new MutationObserver(() => say(name + ":" + el.textContent))
        .observe(el, { childList: true, characterData: true, subtree: true });
    });
  });
})();"""
CHARGING = str(State.CHARGING)
# The engine's display lines and what shows them: a prompt goes into the open screen's live
# region, or is on the next screen as it loads (`TransactionScreen.message`).
PROMPT = ("live:", "screen:")
SHOWN_AS = {
    "terminal.insert_card": PROMPT,
    "terminal.enter_pin": PROMPT,
    "terminal.please_wait": PROMPT,
    "plug_in": PROMPT,
    "starting": ("screen:starting",),
    "charging": ("screen:charging",),
    "stopping": PROMPT,
    "ended": ("screen:finished",),
}


@dataclass
class Watcher:
    """Sightings on one page: (what, seconds since the epoch)."""

    sightings: list[tuple[str, float]] = field(default_factory=list)
    # When the test itself kept the page busy (axe-core, screenshots): not the kiosk's delay.
    busy: list[tuple[float, float]] = field(default_factory=list)

    def saw(self, what: str, at_ms: float) -> None:
        self.sightings.append((what, at_ms / 1000))

    @contextlib.contextmanager
    def busy_with_checks(self) -> Iterator[None]:
        started = time.time()
        try:
            yield
        finally:
            self.busy.append((started, time.time()))

    def delay(self, prefixes: tuple[str, ...], since: float) -> float | None:
        """Seconds from `since` to the first sighting starting with one of `prefixes`; None if
        there is none."""
        times = [at for what, at in self.sightings if what.startswith(prefixes) and at >= since]
        return min(times) - since if times else None

    def disturbed(self, at: float, delay: float | None) -> bool:
        """Whether the test's own work on the page may have held up a change at `at`: the work
        began before the change was seen (or it never was) and ended after the change came."""
        seen = float("inf") if delay is None else at + delay
        return any(at <= end and seen > start for start, end in self.busy)


def watch(page: Page) -> Watcher:
    """Start watching `page` (before its first navigation)."""
    watcher = Watcher()
    page.expose_function("kioskSaw", watcher.saw)
    page.add_init_script(WATCH_JS)
    return watcher


def delays(database, reference: str, watcher: Watcher) -> list[tuple[str, float | None]]:  # type: ignore[no-untyped-def]
    """Per status change of the transaction (display lines, new kWh): its delay to the screen.
    A change never seen is None. Left out: what is on a screen as it loads after the driver's
    tap (the payment's first prompt), Session updates outside charging, and changes the test's
    own work on the page may have held up."""
    with database.session() as session:
        rows = session.execute(
            sa.select(
                ChargingEvent.category,
                ChargingEvent.kind,
                ChargingEvent.state_after,
                ChargingEvent.created_at,
            )
            .join(ChargingTransaction)
            .where(ChargingTransaction.reference == reference)
            .order_by(ChargingEvent.seq)
        ).all()
    found: list[tuple[str, float | None]] = []
    first_prompt, state = True, ""
    for category, kind, state_after, created in rows:
        at = _epoch(created)
        charging, state = state == state_after == CHARGING, state_after
        if category == "notify" and kind in SHOWN_AS:
            if kind == "terminal.insert_card" and first_prompt:
                first_prompt = False
                continue
            delay = watcher.delay(SHOWN_AS[kind], at)
            if not watcher.disturbed(at, delay):
                found.append((kind, delay))
        elif category == "event" and kind == "SessionUpdated" and charging:
            # A new figure on the open charging screen (the first is on it as it loads).
            delay = watcher.delay(("energy:",), at)
            if not watcher.disturbed(at, delay):
                found.append(("kwh", delay))
    return found


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
