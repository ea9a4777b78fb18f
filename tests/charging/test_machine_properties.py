"""Random event sequences against a model of the card terminal's ledger (hypothesis stateful).

The terminal side answers the machine's commands the way a real terminal would (approve,
decline, fail, or lose the answer while having done the work); the CPO, the driver, operators
and timers send anything in any order, late or twice. After every step the money invariants
hold and the ledger agrees; at the end, answering everything and firing every timer settles
the transaction: every hold captured or released, captured = receipt total.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kiosk_app.charging import effects as fx
from kiosk_app.charging import events as ev
from kiosk_app.charging.machine import transition
from kiosk_app.charging.states import FINAL, State, TimerKind, TxState

from .factories import HOLD, T0, new_tx, reservation


class Ledger:
    """The terminal's own journal: holds by receipt number and what became of them."""

    def __init__(self) -> None:
        self.holds: dict[int, dict] = {}  # receipt -> {amount, status, captured}
        self.next_receipt = 1

    def open_for(self) -> list[int]:
        return [r for r, h in self.holds.items() if h["status"] == "open"]

    def create(self) -> int:
        receipt = self.next_receipt
        self.next_receipt += 1
        self.holds[receipt] = {"amount": HOLD, "status": "open", "captured": 0}
        return receipt

    def capture(self, receipt: int, amount: int) -> None:
        hold = self.holds[receipt]
        assert hold["status"] == "open", f"capture of a {hold['status']} hold"
        assert amount <= hold["amount"]
        hold.update(status="captured", captured=amount)

    def release(self, receipt: int) -> None:
        hold = self.holds[receipt]
        assert hold["status"] != "captured", "release of a captured hold"
        hold["status"] = "released"


class EngineWorld(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tx: TxState = new_tx()
        self.now = T0
        self.ledger = Ledger()
        self.terminal: list[fx.Effect] = []  # commands sent to the terminal, unanswered
        self.other: list[fx.Effect] = []  # CPO and receipt commands, unanswered
        self.session_seq = 0

    # --- plumbing ---------------------------------------------------------------------------

    def send(self, event: ev.Event) -> None:
        self.now += timedelta(seconds=1)
        self.tx, effects = transition(self.tx, event, self.now)
        for effect in effects:
            if effect.route in ("terminal", "abort"):
                self.terminal.append(effect)
            elif effect.route != "db":
                self.other.append(effect)

    def answer_terminal(self, effect: fx.Effect, outcome: str) -> None:
        ledger = self.ledger
        if isinstance(effect, fx.Preauthorise):
            if outcome == "decline":
                self.send(ev.PreauthDeclined(ev.DeclineOutcome.DECLINED, 5))
                return
            if outcome == "uncertain_done":
                ledger.create()
                self.send(ev.TerminalUncertain("answer lost"))
            elif outcome in ("uncertain", "fail"):
                self.send(ev.TerminalUncertain("no answer"))
            else:
                self.send(ev.PreauthApproved(reservation(ledger.create())))
        elif isinstance(effect, fx.Capture):
            if outcome in ("fail", "decline"):
                self.send(ev.CaptureFailed(0x66))
                return
            ledger.capture(effect.receipt_no, effect.amount_minor)
            if outcome == "ok":
                self.send(ev.Captured(effect.amount_minor))
            else:
                self.send(ev.TerminalUncertain("answer lost"))
        elif isinstance(effect, fx.Release):
            receipts = (
                [effect.receipt_no] if effect.receipt_no is not None else ledger.open_for()[:1]
            )
            if outcome in ("fail", "decline"):
                self.send(ev.ReleaseFailed(0x83))
                return
            for receipt in receipts:
                ledger.release(receipt)
            self.send(ev.Released() if outcome == "ok" else ev.TerminalUncertain("lost"))
        elif isinstance(effect, fx.CheckHold):
            if outcome in ("fail", "uncertain", "decline"):
                self.send(ev.TerminalUncertain("no answer"))
                return
            open_ = ledger.open_for()
            found = reservation(open_[0], ledger.holds[open_[0]]["amount"]) if open_ else None
            self.send(ev.HoldChecked(found))
        elif isinstance(effect, fx.AbortPayment):
            pending = [e for e in self.terminal if isinstance(e, fx.Preauthorise)]
            if pending:
                self.terminal.remove(pending[0])
                self.send(ev.PreauthDeclined(ev.DeclineOutcome.CUSTOMER_ABORT_OR_TIMEOUT, 0x6C))

    def answer_other(self, effect: fx.Effect, ok: bool) -> None:
        if isinstance(effect, fx.StartSession):
            result = ev.CommandResult.ACCEPTED if ok else ev.CommandResult.REJECTED
            self.send(ev.CommandResponded(ev.Command.START_SESSION, result, 30))
        elif isinstance(effect, fx.StopSession):
            result = ev.CommandResult.ACCEPTED if ok else None
            self.send(ev.CommandResponded(ev.Command.STOP_SESSION, result))
        elif isinstance(effect, fx.IssueReceipt):
            if ok:
                self.send(ev.ReceiptIssued("K1-1", "https://r/1", effect.amount_minor))
            else:
                self.send(ev.ReceiptFailed("disk"))
        elif isinstance(effect, fx.IssueVoucher):
            self.send(ev.VoucherIssued("V-1"))
        elif isinstance(effect, fx.SendAdvice):
            self.send(ev.AdviceSent() if ok else ev.AdviceFailed("500"))

    # --- rules ------------------------------------------------------------------------------

    @rule(action=st.sampled_from([ev.Pay(), ev.Cancel(), ev.Stop()]))
    def driver(self, action: ev.Event) -> None:
        self.send(action)

    @rule(
        action=st.sampled_from(
            [
                ev.OperatorRetryCapture("op"),
                ev.OperatorRelease("op"),
                ev.OperatorStop("op"),
                ev.OperatorMarkReviewed("op"),
            ]
        )
    )
    def operator(self, action: ev.Event) -> None:
        self.send(action)

    @rule(amount=st.integers(-1, HOLD), reference=st.sampled_from(["ACQ-1", "ACQ-2", " "]))
    def refund(self, amount: int, reference: str) -> None:
        """An operator records a refund made at the acquirer (too much, twice, or blank)."""
        self.send(ev.OperatorRecordRefund("op", amount, reference))

    @precondition(lambda self: self.terminal)
    @rule(
        outcome=st.sampled_from(
            ["ok", "ok", "ok", "fail", "decline", "uncertain", "uncertain_done"]
        )
    )
    def terminal_answers(self, outcome: str) -> None:
        self.answer_terminal(self.terminal.pop(0), outcome)

    @precondition(lambda self: self.other)
    @rule(ok=st.booleans(), index=st.integers(0, 3))
    def cpo_or_receipts_answer(self, ok: bool, index: int) -> None:
        self.answer_other(self.other.pop(min(index, len(self.other) - 1)), ok)

    @rule(
        result=st.sampled_from(
            [ev.CommandResult.ACCEPTED, ev.CommandResult.EVSE_OCCUPIED, ev.CommandResult.TIMEOUT]
        ),
        command=st.sampled_from(list(ev.Command)),
    )
    def command_result(self, command: ev.Command, result: ev.CommandResult) -> None:
        self.send(ev.CommandResultReceived(command, result))

    @rule(
        status=st.sampled_from(list(ev.SessionStatus)),
        cost=st.none() | st.integers(0, HOLD * 2),
        other=st.booleans(),
    )
    def session_push(self, status: ev.SessionStatus, cost: int | None, other: bool) -> None:
        sid = "S-OTHER" if other else "S-1"
        self.send(ev.SessionUpdated(sid, status, Decimal("1.5"), cost, start=self.now))

    @rule(
        total=st.integers(0, HOLD * 2),
        ours=st.none() | st.integers(0, HOLD * 2),
        cdr_id=st.sampled_from(["CDR-1", "CDR-2"]),
        credit=st.booleans(),
    )
    def cdr(self, total: int, ours: int | None, cdr_id: str, credit: bool) -> None:
        if credit:
            self.send(
                ev.CdrReceived("CR-" + cdr_id, -total, credit=True, credit_reference_id=cdr_id)
            )
        else:
            self.send(ev.CdrReceived(cdr_id, total, Decimal("2"), our_total_minor=ours))

    @precondition(lambda self: self.tx.timers)
    @rule(which=st.integers(0, 7))
    def timer_fires(self, which: int) -> None:
        timer = self.tx.timers[which % len(self.tx.timers)]
        self.now = max(self.now, timer.due_at)
        self.send(ev.TimerFired(timer.kind, timer.due_at))

    @precondition(lambda self: self.ledger.open_for())
    @rule()
    def recovery_scan(self) -> None:
        """Recovery finds our holds still open on the terminal."""
        for receipt in self.ledger.open_for():
            self.send(ev.OpenHoldFound(reservation(receipt, self.ledger.holds[receipt]["amount"])))

    @rule(kind=st.sampled_from(list(TimerKind)))
    def stale_timer(self, kind: TimerKind) -> None:
        self.send(ev.TimerFired(kind, T0 - timedelta(days=1)))

    @rule(outcome=st.sampled_from(["ok", "ok", "fail", "uncertain", "uncertain_done"]))
    def progress(self, outcome: str) -> None:
        """Do the next natural thing, so that random runs get deep into the flow."""
        self._next_step(outcome)

    @rule(outcome=st.sampled_from(["ok", "ok", "fail", "uncertain", "uncertain_done"]))
    def progress_again(self, outcome: str) -> None:
        self._next_step(outcome)  # a second rule doubles the weight of progress

    def _next_step(self, outcome: str) -> None:
        tx = self.tx
        if self.terminal:
            self.answer_terminal(self.terminal.pop(0), outcome)
        elif self.other:
            self.answer_other(self.other.pop(0), outcome != "fail")
        elif tx.state == State.SELECTED:
            self.send(ev.Pay())
        elif tx.state == State.STARTING:
            self.send(ev.CommandResultReceived(ev.Command.START_SESSION, ev.CommandResult.ACCEPTED))
        elif tx.state == State.START_ACCEPTED:
            sid = tx.session_id or "S-1"
            self.send(ev.SessionUpdated(sid, ev.SessionStatus.ACTIVE, Decimal(1), 700))
        elif tx.state in (State.CHARGING, State.STOPPING):
            self.send(
                ev.SessionUpdated(
                    self.tx.session_id or "S-1", ev.SessionStatus.COMPLETED, Decimal(2), 1300
                )
            )
        elif tx.state == State.ENDED:
            self.send(ev.CdrReceived("CDR-1", 1300, Decimal(2), our_total_minor=1290))
        elif tx.timers:
            timer = min(tx.timers, key=lambda t: t.due_at)
            self.now = max(self.now, timer.due_at)
            self.send(ev.TimerFired(timer.kind, timer.due_at))

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def ledger_agrees(self) -> None:
        tx = self.tx
        captured = sum(h["captured"] for h in self.ledger.holds.values())
        if tx.captures:
            assert captured == tx.captured_minor
        if tx.state == State.RELEASED:
            assert captured == 0

    def teardown(self) -> None:
        self.settle()
        tx = self.tx
        assert tx.state in FINAL, (tx.state, tx.timers)
        assert not self.ledger.open_for(), "a hold was left open"
        captured = sum(h["captured"] for h in self.ledger.holds.values())
        assert captured == tx.captured_minor
        if tx.state in (State.RECEIPT_ISSUED, State.ADVICE_SENT):
            assert tx.receipt_total_minor == tx.captured_minor
        assert all(c.settled for c in tx.credits), "a credit CDR was never acted on"
        assert tx.refunded_minor <= tx.refund_owed_minor <= tx.captured_minor

    def settle(self) -> None:
        """Answer everything successfully, end any session, fire timers, let an operator act."""
        for _ in range(200):
            if self.tx.state in FINAL and not self.terminal and not self.other:
                return
            if self.terminal:
                self.answer_terminal(self.terminal.pop(0), "ok")
            elif self.other:
                self.answer_other(self.other.pop(0), True)
            elif self.tx.state in (State.CHARGING, State.STOPPING):
                self.send(
                    ev.SessionUpdated(
                        self.tx.session_id or "S-1", ev.SessionStatus.COMPLETED, Decimal(1), 900
                    )
                )
            elif self.tx.state == State.NEEDS_ATTENTION:
                self.send(ev.OperatorRetryCapture("op"))
                self.send(ev.OperatorRelease("op"))
            elif self.tx.timers:
                timer = min(self.tx.timers, key=lambda t: t.due_at)
                self.now = max(self.now, timer.due_at)
                self.send(ev.TimerFired(timer.kind, timer.due_at))
            elif self.tx.state in (State.SELECTED, State.AUTHORISING):
                self.send(ev.Cancel())
            else:
                raise AssertionError(f"stuck in {self.tx.state} with nothing pending")
        raise AssertionError(f"did not settle: {self.tx.state}")


EngineWorld.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineWorld = EngineWorld.TestCase
