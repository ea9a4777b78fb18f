"""The worker: drives the terminals it holds a lease on, fires timers, performs CPO and receipt
commands, and runs recovery.

Each terminal is driven by exactly one worker: a lease row per kiosk (owner, expiry), renewed
a few times per lease; a worker that dies stops renewing and, once the lease has expired,
another worker takes the terminal over (running recovery for it first). Inside a worker, one
thread per owned terminal performs that terminal's commands one at a time; the abort line,
timers, the CPO and receipts are served by the main loop so that a payment in progress never
blocks them.

Loops sleep until woken. Work committed in this process wakes the loop it is for; on
PostgreSQL, the web tier under gunicorn notifies its commits and a listener thread wakes the
loops they are for (`notify`). Anything else committed elsewhere (the operator's end-of-day, a
notification lost while the listener reconnects, everything on SQLite) is found by the main
loop, which every poll interval asks once which owned terminals have work and wakes them. So
twenty idle kiosks cost one query per poll, not twenty.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk_app.charging import closing, notify, recovery, timers
from kiosk_app.charging.runner import Runner, Targets
from kiosk_app.config import ChargingConfig
from kiosk_app.db import Database
from kiosk_app.models.charging import ChargingEffect, TerminalLease
from kiosk_app.models.reconciliation import TerminalClosing

log = logging.getLogger(__name__)


MAIN = ""  # the wake-up key of the main loop (the terminal loops' keys are their kiosk ids)


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TerminalLeases:
    """Lease rows: who drives which kiosk's terminal, until when."""

    def __init__(
        self, database: Database, owner: str, lease_s: int, clock: Callable[[], datetime]
    ) -> None:
        self.database, self.owner, self.lease_s, self.clock = database, owner, lease_s, clock

    def renew(self, kiosk_ids: list[str]) -> set[str]:
        """Extend the leases this worker holds among `kiosk_ids`, in one commit; those held."""
        if not kiosk_ids:
            return set()
        until = self.clock() + timedelta(seconds=self.lease_s)
        mine = sa.and_(TerminalLease.owner == self.owner, TerminalLease.kiosk_id.in_(kiosk_ids))
        with self.database.session() as session:
            session.execute(sa.update(TerminalLease).where(mine).values(expires_at=until))
            held = set(session.scalars(sa.select(TerminalLease.kiosk_id).where(mine)))
            session.commit()
        return held

    def acquire(self, kiosk_id: str) -> bool:
        """Take or renew the lease; False while another live owner holds it."""
        now = self.clock()
        until = now + timedelta(seconds=self.lease_s)
        with self.database.session() as session:
            result = session.execute(
                sa.update(TerminalLease)
                .where(
                    TerminalLease.kiosk_id == kiosk_id,
                    sa.or_(TerminalLease.owner == self.owner, TerminalLease.expires_at < now),
                )
                .values(owner=self.owner, expires_at=until)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                session.commit()
                return True
            if session.get(TerminalLease, kiosk_id) is not None:
                return False
            session.add(TerminalLease(kiosk_id=kiosk_id, owner=self.owner, expires_at=until))
            try:
                session.commit()
            except IntegrityError:
                return False  # another worker inserted it first
            return True

    def release(self, kiosk_id: str) -> None:
        with self.database.session() as session:
            session.execute(
                sa.delete(TerminalLease).where(
                    TerminalLease.kiosk_id == kiosk_id, TerminalLease.owner == self.owner
                )
            )
            session.commit()


class Worker:
    """A runtime service (name/start/stop) running the engine's background work."""

    name = "charging-worker"

    def __init__(self, runner: Runner, kiosks: list[str], config: ChargingConfig) -> None:
        self.runner = runner
        self.kiosks = kiosks
        self.config = config
        self.leases = TerminalLeases(
            runner.database, runner.worker_id, config.lease_s, runner.clock
        )
        self.owned: dict[str, threading.Thread] = {}
        # One command at a time per terminal, also for card reads from the kiosk's views.
        self.terminal_locks = {k: threading.Lock() for k in kiosks}
        self.poll_s = config.poll_interval_ms / 1000
        self.stale_after = timedelta(seconds=max(config.lease_s * 2, 60))
        # Leases are renewed a few times per lease, not on every round: a round runs on every
        # wake-up, and a renewal is a commit in front of the work that woke it.
        self.renew_every = timedelta(seconds=config.lease_s / 3)
        self._renewed_at: datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Condition()
        # Wake-ups counted per loop (MAIN, and each kiosk's terminal loop): a loop sleeps only
        # if none came since it last looked for work, so an intent committed while a round
        # runs is not left waiting for the poll interval.
        self._wakes: dict[str, int] = dict.fromkeys([MAIN, *kiosks], 0)
        self._main: threading.Thread | None = None
        # On PostgreSQL, the web tier's commits wake us at once (`notify`), not on the poll.
        self._listener = (
            notify.Listener(runner.database, self.wake, self._stop)
            if notify.supported(runner.database)
            else None
        )
        self._last_recovery: datetime | None = None
        runner.on_intent = self.wake

    # --- runtime.Service ---------------------------------------------------------------------

    def start(self) -> None:
        self._main = threading.Thread(target=self._run, name="charging-worker", daemon=True)
        self._main.start()
        if self._listener is not None:
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        if self._listener is not None:
            self._listener.join(timeout=10)
        for thread in [self._main, *self.owned.values()]:
            if thread is not None:
                thread.join(timeout=10)
        for kiosk_id in list(self.owned):
            self.leases.release(kiosk_id)
        self.owned.clear()

    def wake(self, targets: Targets | None = None) -> None:
        """New work was committed for `targets` (route, kiosk id): the loops that serve it
        look again at once; every loop when None."""
        if targets is None:
            loops = set(self._wakes)
        else:
            loops = {kiosk if route == "terminal" else MAIN for route, kiosk in targets}
        with self._wake:
            for loop in loops & self._wakes.keys():
                self._wakes[loop] += 1
            self._wake.notify_all()

    # --- the loops ---------------------------------------------------------------------------

    def run_once(self) -> None:
        """One round of everything, terminals included, in the calling thread."""
        held = [k for k in self.kiosks if self.leases.acquire(k)]
        for kiosk_id in held:
            self._recover_terminal(kiosk_id)
            while self._terminal_round(kiosk_id):
                pass
        self._shared_round(held)

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self._wakes[MAIN]
            try:
                if self._leases_due():
                    self._claim_terminals()
                self._shared_round(list(self.owned))
                self._wake_busy_terminals()
            except Exception:  # keep the worker alive; the next round retries
                log.exception("worker round failed")
            self._sleep(MAIN, seen)

    def _sleep(self, loop: str, seen: int) -> bool:
        """Wait for a wake-up of `loop` or the poll interval, unless one came since `seen`;
        whether it was woken."""
        with self._wake:
            return self._wake.wait_for(lambda: self._wakes[loop] != seen, self.poll_s)

    def _wake_busy_terminals(self) -> None:
        """Wake the owned terminals' loops that have work committed by other processes."""
        owned = list(self.owned)
        if not owned:
            return
        terminal_work = sa.select(ChargingEffect.kiosk_id).where(
            ChargingEffect.status == "pending",
            ChargingEffect.route == "terminal",
            ChargingEffect.kiosk_id.in_(owned),
        )
        closings = sa.select(TerminalClosing.kiosk_id).where(
            TerminalClosing.status == "pending", TerminalClosing.kiosk_id.in_(owned)
        )
        with self.runner.database.read_connection() as connection:
            busy = set(connection.execute(sa.union(terminal_work, closings)).scalars())
        if busy:
            self.wake({("terminal", kiosk_id) for kiosk_id in busy})

    def _leases_due(self) -> bool:
        now = self.runner.clock()
        if self._renewed_at is not None and now - self._renewed_at < self.renew_every:
            return False
        self._renewed_at = now
        return True

    def _claim_terminals(self) -> None:
        renewed = self.leases.renew(list(self.owned))
        for kiosk_id in self.kiosks:
            held = kiosk_id in renewed or self.leases.acquire(kiosk_id)
            if held and kiosk_id not in self.owned:
                thread = threading.Thread(
                    target=self._terminal_loop, args=(kiosk_id,), name=f"terminal-{kiosk_id}"
                )
                thread.daemon = True
                self.owned[kiosk_id] = thread
                thread.start()
                log.info("worker %s drives the terminal of %s", self.runner.worker_id, kiosk_id)
            elif not held and kiosk_id in self.owned:
                log.warning("lost the terminal lease of %s", kiosk_id)
                self.owned.pop(kiosk_id)

    def _shared_round(self, kiosks: list[str]) -> None:
        now = self.runner.clock()
        interval = timedelta(seconds=self.config.recovery_interval_s)
        if self._last_recovery is None or now - self._last_recovery >= interval:
            self._last_recovery = now
            recovery.recover(self.runner, [], stale_after=self.stale_after, include_terminal=False)
        timers.fire_due(self.runner)
        for effect_id in self.runner.pending(["abort"], kiosks):
            self.runner.perform(effect_id)
        for effect_id in self.runner.pending(["cpo", "receipts"]):
            self.runner.perform(effect_id)

    def _recover_terminal(self, kiosk_id: str) -> None:
        recovery.recover(self.runner, [kiosk_id], stale_after=self.stale_after, include_cpo=False)
        closing.fail_interrupted(self.runner.database, kiosk_id, self.runner.worker_id)

    def _terminal_round(self, kiosk_id: str) -> bool:
        pending = self.runner.pending(["terminal"], [kiosk_id])
        if pending:
            with self.terminal_locks[kiosk_id]:
                self.runner.perform(pending[0])
            return True
        # An end-of-day only between payments: the terminal runs one command at a time.
        with self.terminal_locks[kiosk_id]:
            return closing.run_pending(
                self.runner.database,
                kiosk_id,
                self.runner.ports.terminals[kiosk_id],
                self.runner.worker_id,
                self.runner.clock,
            )

    def read_card(self, kiosk_id: str, timeout_s: int) -> str | None:
        """Read a presented card on a terminal this worker drives ("find my session").

        None when no card was presented, the terminal is busy with a payment, or another
        worker drives it (then only that process can read it)."""
        lock = self.terminal_locks.get(kiosk_id)
        if lock is None or (self._main is not None and kiosk_id not in self.owned):
            return None
        if not lock.acquire(timeout=1):
            return None
        try:
            return self.runner.ports.terminals[kiosk_id].read_card_reference(timeout_s)
        finally:
            lock.release()

    def _terminal_loop(self, kiosk_id: str) -> None:
        try:
            self._recover_terminal(kiosk_id)
            last_check = self.runner.clock()
            woken = True  # look for work once at the start
            while not self._stop.is_set() and kiosk_id in self.owned:
                seen = self._wakes[kiosk_id]
                while woken and self._terminal_round(kiosk_id):
                    pass
                now = self.runner.clock()
                if now - last_check >= timedelta(seconds=self.config.recovery_interval_s):
                    last_check = now
                    report = recovery.RecoveryReport()
                    recovery.release_orphan_holds(self.runner, kiosk_id, report)
                woken = self._sleep(kiosk_id, seen)
        except Exception:
            log.exception("terminal loop of %s failed; the lease will be retaken", kiosk_id)
            self.owned.pop(kiosk_id, None)
