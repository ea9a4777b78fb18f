"""Software overhead of a complete pre-authorisation over a pty (target: <= 0.10 of wire time).

The simulator's think time is zero and a pty moves bytes at memory speed, so the exchange's
wall time is the software's own overhead (ECR + simulator + kernel). Baseline, from the same
run: the time the same bytes (counted on the pty) would take on a real 9600-baud line at
11 bits per byte (8N2 plus start bit).
"""

from __future__ import annotations

import statistics
import time

from payment_terminal.ecr import Terminal
from payment_terminal.profile import TerminalProfile
from payment_terminal.simulator import TerminalSimulator

BAUD, BITS_PER_BYTE, TARGET, RUNS = 9600, 11, 0.10, 30


class CountingPort:
    """Wraps the simulator's pty master and counts every byte in both directions."""

    def __init__(self, port) -> None:
        self.port, self.count = port, 0

    def open(self) -> None:
        self.port.open()

    def close(self) -> None:
        self.port.close()

    def read(self, timeout: float) -> bytes:
        data = self.port.read(timeout)
        self.count += len(data)
        return data

    def write(self, data: bytes) -> None:
        self.count += len(data)
        self.port.write(data)


def main() -> None:
    with TerminalSimulator("pty", speed=0) as sim:
        device = sim.link_url
        counter = CountingPort(sim.link.port)
        sim.link.port = counter
        with Terminal(device, TerminalProfile()) as terminal:
            terminal.register()
            overheads, sizes = [], []
            for run in range(RUNS):
                before = counter.count
                started = time.perf_counter()
                reservation = terminal.preauthorise(5000, "EUR", f"BENCH-{run}")
                overheads.append(time.perf_counter() - started)
                sizes.append(counter.count - before)
                terminal.release(reservation)
    wire = statistics.median(sizes) * BITS_PER_BYTE / BAUD
    overhead = statistics.median(overheads)
    ratio = overhead / wire
    print(f"bytes on the line per pre-authorisation: {statistics.median(sizes):.0f}")
    print(f"wire time at {BAUD} baud: {wire * 1000:.1f} ms")
    print(f"measured exchange over pty (median of {RUNS}): {overhead * 1000:.2f} ms")
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"overhead ratio: {ratio:.3f} (target <= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
