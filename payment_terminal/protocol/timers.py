"""ZVT protocol timers (PA00P016 §3.4-3.5, §5.2.5-5.2.6), in seconds; adjustable for tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timers:
    t1: float = 0.2  # max gap between two bytes of one serial frame
    t2: float = 5.0  # max wait for ACK/NAK after a serial frame
    t3: float = 5.0  # command -> first answer (80 00 / 84 xx)
    t4: float = 180.0  # acknowledged command -> completion; restarted by 04 FF / 04 0F
    repeats: int = 2  # serial repeats after NAK or T2
