"""Two pushes that merge into one stored document at the same time: neither is lost. (On
PostgreSQL the second push used to read the document before the first committed and write its
stale copy back, which left an EVSE reported CHARGING for good.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from test_receiver_fuzz import SESSION

from kiosk_app.models.ocpi import OcpiLocation, OcpiSession
from kiosk_app.ocpi import store

Push = Callable[[Any], object]


def _race(database: Any, first: Push, second: Push) -> None:
    """`first` merges and writes but has not committed when `second` starts: `second` must
    wait for it, then merge into what `first` committed."""
    second_done = threading.Event()

    def run_second() -> None:
        with database.session() as db:
            second(db)
            db.commit()
        second_done.set()

    with database.session() as db:
        first(db)
        thread = threading.Thread(target=run_second)
        thread.start()
        time.sleep(0.3)  # the second push reaches the stored document meanwhile
        assert not second_done.is_set(), "the second push did not wait for the first"
        db.commit()
    thread.join(30)
    assert second_done.is_set()


def test_concurrent_evse_patches_of_one_location_both_land(app: Any, examples: Path) -> None:
    database = app.extensions["kiosk.db"]
    location = json.loads((examples / "2.2.1-bugfixes" / "location_example.json").read_text())
    with database.session() as db:
        store.put_location(db, "2.2.1", "BE", "BEC", "LOC1", location)
        db.commit()
    uids = [e["uid"] for e in location["evses"]]
    patch = {"status": "CHARGING", "last_updated": "2026-01-01T10:00:00Z"}
    first, second = (
        lambda db, uid=uid: store.patch_location(db, "2.2.1", "BE", "BEC", "LOC1", patch, uid)
        for uid in uids
    )
    _race(database, first, second)
    with database.session() as db:
        stored = store.find(db, OcpiLocation.location_id, "BE", "BEC", "LOC1").doc
    assert [e["status"] for e in stored["evses"]] == ["CHARGING", "CHARGING"]


def test_concurrent_session_patches_keep_every_charging_period(app: Any) -> None:
    database = app.extensions["kiosk.db"]
    with database.session() as db:
        store.put_session(db, "2.2.1", "BE", "BEC", "S1", SESSION)
        db.commit()

    def period(minute: int) -> Push:
        started = f"2026-01-01T10:{minute:02d}:00Z"
        body = {
            "charging_periods": [
                {"start_date_time": started, "dimensions": [{"type": "ENERGY", "volume": 1}]}
            ],
            "last_updated": started,
        }
        return lambda db: store.patch_session(db, "2.2.1", "BE", "BEC", "S1", body)

    _race(database, period(1), period(2))
    with database.session() as db:
        stored = store.find(db, OcpiSession.session_id, "BE", "BEC", "S1").doc
    assert [p["start_date_time"][11:16] for p in stored["charging_periods"]] == ["10:01", "10:02"]
