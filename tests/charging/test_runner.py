"""The runner and the service on a real database: intent before act, outcome after, the
terminal's journal agreeing with our books, one transaction per EVSE, idempotent taps."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from kiosk_app.charging import get_service, init_app
from kiosk_app.charging.events import Cancel, CommandResult, Pay, TerminalStatus
from kiosk_app.charging.ports import CpoUnavailable, RemoteCdr
from kiosk_app.charging.runner import EvseBusy
from kiosk_app.charging.service import ChargingService, NotServed, policy_from
from kiosk_app.charging.states import CapturePolicy, State
from kiosk_app.charging.timers import fire_due
from kiosk_app.config import ChargingConfig
from kiosk_app.models.charging import ChargingEffect, ChargingEvent, ChargingTimer

from .conftest import Engine
from .doubles import cdr, charge_once


def events_of(engine: Engine) -> list[tuple[str, str]]:
    with engine.database.session() as session:
        rows = session.execute(
            sa.select(ChargingEvent.category, ChargingEvent.kind).order_by(
                ChargingEvent.transaction_id, ChargingEvent.seq
            )
        )
        return [(c, k) for c, k in rows]


def start_charging(engine: Engine, evse: str = "EVSE-1") -> str:
    service = engine.service
    ref = service.select_evse("kiosk-1", evse, "de")
    service.pay(ref)
    engine.runner.drain()
    service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    service.on_session(ref, "S-1", "ACTIVE", Decimal("0.5"), None)
    return ref


def test_whole_transaction_books_match_the_terminal_and_the_receipt(engine: Engine) -> None:
    service = engine.service
    ref = start_charging(engine)
    view = service.status(ref)
    assert view.state == State.CHARGING and view.kwh == Decimal("0.5")
    assert view.cost_minor == 20 and view.hold_remaining_minor == 5000 - 20  # our live price
    assert view.card_last4 == "4321" and len(view.session_code) == 6
    assert [line.key for line in view.lines][:3] == [
        "pay.started",
        "terminal.insert_card",
        "starting",
    ]
    service.stop(ref)
    engine.runner.drain()
    assert ("STOP_SESSION", "S-1") in engine.cpo.calls
    service.on_session(ref, "S-1", "COMPLETED", Decimal("30.5"), Decimal("12.34"))
    service.on_cdr(cdr(ref))
    engine.runner.drain()
    view = service.status(ref, since=view.cursor)
    assert view.state == State.RECEIPT_ISSUED and view.final
    assert view.receipt_link == "https://kiosk.example/r/K1-000001"
    assert [line.key for line in view.lines] == ["stopping", "ended", "captured", "receipt_ready"]
    hold = engine.terminal.journal[1]
    receipt = engine.receipts.issued[ref]
    assert (hold.status, hold.captured_minor, receipt.total_minor) == ("captured", 1234, 1234)
    tx = engine.runner.load(ref)
    assert (tx.held_minor, tx.captured_minor, tx.released_minor) == (5000, 1234, 3766)
    assert tx.cross_check == "match"
    # Intent before act: every effect row precedes the event that reports its outcome.
    log = events_of(engine)
    assert log.index(("effect", "Capture")) < log.index(("event", "Captured"))
    assert log.index(("effect", "Preauthorise")) < log.index(("event", "PreauthApproved"))
    with engine.database.session() as session:
        statuses = session.scalars(sa.select(ChargingEffect.status)).all()
        assert set(statuses) == {"done"}
        assert session.scalar(sa.select(sa.func.count()).select_from(ChargingTimer)) == 0


def test_double_pay_starts_one_payment(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "en")
    engine.service.pay(ref)
    engine.service.pay(ref)
    engine.runner.drain()
    assert engine.terminal.calls.count("preauthorise") == 1


def test_concurrent_taps_from_two_threads_start_one_payment(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "en")
    runners = [engine.runner_for(f"web-{i}") for i in range(4)]
    threads = [threading.Thread(target=r.apply, args=(ref, Pay())) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.database.session() as session:
        kinds = session.scalars(sa.select(ChargingEffect.kind)).all()
        seqs = session.scalars(sa.select(ChargingEvent.seq).order_by(ChargingEvent.seq)).all()
    assert kinds == ["Preauthorise"]
    assert seqs == list(range(1, len(seqs) + 1))  # four events logged, none lost


def test_decline_holds_nothing(engine: Engine) -> None:
    engine.terminal.script = ["decline"]
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    view = engine.service.status(ref)
    assert view.state == State.DECLINED and view.failure == "declined.INSUFFICIENT_FUNDS"
    assert engine.cpo.calls == [] and engine.terminal.journal == {}


def test_one_transaction_per_evse(engine: Engine) -> None:
    ref = start_charging(engine)
    with pytest.raises(EvseBusy):
        engine.service.select_evse("kiosk-2", "EVSE-1", "de")
    other = engine.service.select_evse("kiosk-2", "EVSE-2", "de")
    assert other != ref
    engine.service.on_session(ref, "S-1", "COMPLETED", Decimal(3), Decimal("1.00"))
    # Session over: the EVSE is free for the next driver while the first one settles.
    assert engine.service.select_evse("kiosk-2", "EVSE-1", "de")


def test_an_unpaid_selection_does_not_block_the_evse(engine: Engine) -> None:
    first = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    second = engine.service.select_evse("kiosk-2", "EVSE-1", "de")
    assert engine.service.status(first).state == State.ABORTED
    assert engine.service.status(second).state == State.SELECTED


def test_unknown_or_unserved_evse(engine: Engine) -> None:
    with pytest.raises(NotServed):
        engine.service.select_evse("kiosk-9", "EVSE-1", "de")
    with pytest.raises(NotServed):
        engine.service.select_evse("kiosk-1", "NOPE", "de")


def test_start_rejected_releases_the_hold_with_a_voucher(engine: Engine) -> None:
    engine.cpo.start_answers = [CommandResult.REJECTED]
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    view = engine.service.status(ref)
    assert view.state == State.RELEASED and view.failure == "start_rejected.REJECTED"
    assert engine.terminal.journal[1].status == "released"
    assert engine.service.status(ref).voucher_number == "V-1"


def test_a_voucher_that_fails_is_flagged_and_issued_on_retry(engine: Engine) -> None:
    engine.cpo.start_answers = [CommandResult.REJECTED]
    engine.receipts.fail_next = 1
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    tx = engine.runner.load(ref)
    assert tx.state == State.RELEASED and tx.voucher_number is None
    assert "voucher_failed" in tx.review_flags
    engine.clock.advance(engine.config.charging.retry_delay_s + 1)
    assert fire_due(engine.runner) == 1
    engine.runner.drain()
    assert engine.service.status(ref).voucher_number == "V-1"


def test_cpo_unreachable_for_start_releases(engine: Engine) -> None:
    engine.cpo.start_answers = [CpoUnavailable("HTTP 500")]
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    assert engine.service.status(ref).failure == "start_failed"
    assert engine.terminal.journal[1].status == "released"


def test_command_result_never_arrives(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    assert engine.service.status(ref).state == State.STARTING
    assert fire_due(engine.runner) == 0  # not yet due
    engine.clock.advance(61)  # CommandResponse timeout 30 s + margin 30 s
    assert fire_due(engine.runner) == 1
    engine.runner.drain()
    assert engine.service.status(ref).state == State.RELEASED
    assert engine.terminal.journal[1].status == "released"


def test_car_never_plugged_in(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    engine.runner.drain()
    engine.service.on_command_result(ref, "START_SESSION", "ACCEPTED")
    engine.service.on_session(ref, "S-7", "PENDING", Decimal(0), None)
    deadline = engine.service.status(ref).plugin_deadline
    assert deadline is not None and (deadline - engine.clock()).total_seconds() == 300
    engine.clock.advance(301)
    fire_due(engine.runner)
    engine.runner.drain()
    assert ("STOP_SESSION", "S-7") in engine.cpo.calls
    assert engine.service.status(ref).failure == "no_plugin"


def test_capture_fails_then_succeeds_on_retry(engine: Engine) -> None:
    ref = start_charging(engine)
    engine.service.on_session(ref, "S-1", "COMPLETED", Decimal(5), Decimal("2.00"))
    engine.terminal.script = ["decline"]
    engine.service.on_cdr(cdr(ref, "2.00"))
    engine.runner.drain()
    assert engine.service.status(ref).state == State.CAPTURE_FAILED
    engine.clock.advance(60)
    fire_due(engine.runner)
    engine.runner.drain()
    assert engine.service.status(ref).state == State.RECEIPT_ISSUED
    assert engine.terminal.journal[1].captured_minor == 200


def test_lost_capture_answer_is_checked_not_repeated(engine: Engine) -> None:
    ref = start_charging(engine)
    engine.terminal.script = ["noanswer_done"]
    engine.service.on_cdr(cdr(ref, "3.00"))
    engine.runner.drain()
    engine.clock.advance(60)
    fire_due(engine.runner)
    engine.runner.drain()  # CheckHold: the hold is gone, so the capture went through
    tx = engine.runner.load(ref)
    assert tx.state == State.RECEIPT_ISSUED and "capture_assumed" in tx.review_flags
    assert engine.terminal.calls.count("capture") == 1


def test_find_by_code_and_card(engine: Engine) -> None:
    ref = start_charging(engine)
    code = engine.service.status(ref).session_code
    assert engine.service.find_by_code("kiosk-1", code.lower()) == ref
    assert engine.service.find_by_code("kiosk-2", code) is None
    assert engine.service.find_by_card("kiosk-1", "card-ref-A") == ref
    assert engine.service.find_by_card("kiosk-1", "card-ref-B") is None


def test_operator_actions_are_recorded_with_the_operator(engine: Engine) -> None:
    ref = start_charging(engine)
    engine.service.stop_session(ref, "olga")
    engine.service.mark_reviewed(ref, "olga", "spoke to the driver")
    with engine.database.session() as session:
        actors = session.execute(
            sa.select(ChargingEvent.kind, ChargingEvent.actor).where(ChargingEvent.actor != "")
        ).all()
    assert [tuple(a) for a in actors] == [
        ("OperatorStop", "olga"),
        ("OperatorMarkReviewed", "olga"),
    ]


def test_card_data_is_stored_only_as_brand_last4_and_hash(engine: Engine) -> None:
    ref = start_charging(engine)
    with engine.database.session() as session:
        dump = " ".join(
            str(v)
            for row in session.execute(sa.text("SELECT * FROM charging_transaction")).all()
            for v in row
        ) + " ".join(str(p) for p in session.scalars(sa.select(ChargingEvent.payload)).all())
    assert "card-ref-A" not in dump and "############" not in dump
    assert "4321" in dump and engine.runner.load(ref).reservation.card_hash in dump  # type: ignore[union-attr]


def test_init_app_binds_the_service(app, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    worker = init_app(app, engine.ports)
    with app.app_context():
        service = get_service()
    assert isinstance(service, ChargingService) and worker.kiosks == []
    assert service.runner.database is app.extensions["kiosk.db"]


def test_cancel_before_the_terminal_was_asked_sends_nothing(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "en")
    engine.service.pay(ref)
    engine.service.cancel(ref)
    engine.runner.drain()
    assert engine.service.status(ref).state == State.ABORTED
    assert "preauthorise" not in engine.terminal.calls


def test_timeline_reads_in_order_with_intents_and_outcomes(engine: Engine) -> None:
    ref = start_charging(engine)
    engine.service.stop_session(ref, "olga")
    entries = engine.service.timeline(ref)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    kinds = [(e.category, e.kind) for e in entries]
    assert kinds[0] == ("event", "Created") and ("effect", "StartSession") in kinds
    assert ("notify", "terminal.insert_card") in kinds
    stop, intent, line = entries[-3:]  # the operator's stop, its intent, the screen line
    assert (stop.kind, stop.source, stop.actor) == ("OperatorStop", "operator", "olga")
    assert (intent.kind, intent.details) == ("StopSession", {"session_id": "S-1", "reference": ref})
    assert (line.kind, line.state_after) == ("stopping", "STOPPING")


def test_policy_is_copied_from_the_charging_config() -> None:
    config = ChargingConfig(
        plugin_window_s=120, capture_policy="lower", cdr_missing_policy="release"
    )
    policy = policy_from(config)
    assert policy.plugin_window_s == 120 and policy.stop_at_hold_share == Decimal("0.95")
    assert (policy.capture_policy, policy.cdr_missing_policy) == ("lower", "release")
    assert isinstance(policy.capture_policy, CapturePolicy)


def test_several_events_are_applied_in_order_in_one_commit(engine: Engine) -> None:
    ref = engine.service.select_evse("kiosk-1", "EVSE-1", "de")
    engine.service.pay(ref)
    commits: list[int] = []
    sa.event.listen(engine.database.engine, "commit", lambda _conn: commits.append(1))
    tx = engine.runner.apply_all(
        ref,
        [
            TerminalStatus(0x0A, "insert_card", "Karte bitte"),
            TerminalStatus(0x0B, "enter_pin", "PIN bitte"),
            Cancel(),
        ],
    )
    assert len(commits) == 1
    assert tx.state == State.AUTHORISING and tx.cancel_requested
    with engine.database.session() as session:
        rows = session.execute(
            sa.select(ChargingEvent.seq, ChargingEvent.category, ChargingEvent.kind)
            .where(ChargingEvent.kind.in_(["TerminalStatus", "Cancel", "AbortPayment"]))
            .order_by(ChargingEvent.seq)
        ).all()
        notes = session.scalars(
            sa.select(ChargingEvent.kind)
            .where(ChargingEvent.category == "notify")
            .order_by(ChargingEvent.seq)
        ).all()
    kinds = [(category, kind) for _, category, kind in rows]
    assert kinds == [
        ("event", "TerminalStatus"),
        ("event", "TerminalStatus"),
        ("event", "Cancel"),
        ("effect", "AbortPayment"),
    ]
    seqs = [seq for seq, _, _ in rows]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert notes == ["pay.started", "terminal.insert_card", "terminal.enter_pin"]


def test_a_credit_note_that_fails_is_flagged_and_issued_on_retry(engine: Engine) -> None:
    ref = charge_once(engine.service, "kiosk-1", "EVSE-1", lambda *_: engine.runner.drain())
    credit = RemoteCdr(ref, "CR-1", Decimal("-1.20"), Decimal(0), True, f"CDR-{ref}")
    engine.service.on_cdr(credit)
    engine.runner.drain()
    engine.receipts.fail_next = 1
    engine.service.record_refund(ref, "olga", 120, "ACQ-1")
    engine.runner.drain()
    tx = engine.runner.load(ref)
    assert "credit_note_failed" in tx.review_flags
    assert tx.refund_payments[0].credit_note_number is None
    engine.clock.advance(engine.config.charging.retry_delay_s + 1)
    assert fire_due(engine.runner) == 1
    engine.runner.drain()
    assert engine.runner.load(ref).refund_payments[0].credit_note_number == "CN-0-120"
