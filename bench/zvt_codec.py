"""Decode + re-encode rate of ZVT Status-Information APDUs (target: >= 50,000 per second).

Corpus: every valid 04 0F APDU of the reference vectors, round-robin. Baseline, measured in the
same run: a JSON dump + load of the same decoded fields (a generic codec doing comparable work).
CPU time of this process is measured, so other load on the machine counts less.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from payment_terminal.protocol.commands import decode_message, encode_message

VECTORS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "zvt" / "vectors.json"
)
FLAGGED = {50, 51, 63}
TARGET = 50_000


def corpus() -> list[bytes]:
    vectors = json.loads(VECTORS.read_text())
    return [
        bytes.fromhex(v["hex"])
        for i, v in enumerate(vectors)
        if v["transport"] == "apdu" and v["hex"].startswith("040f") and i not in FLAGGED
    ]


def _rate(work, items: list, rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        for item in items:
            work(item)
    return rounds * len(items) / (time.process_time() - started)


def main() -> None:
    apdus = corpus()
    plain = [{k: v for k, v in decode_message(raw).fields.items() if k != "tlv"} for raw in apdus]
    rounds = max(1, 40_000 // len(apdus))
    codec = _rate(lambda raw: encode_message(decode_message(raw)), apdus, rounds)
    baseline = _rate(lambda fields: json.loads(json.dumps(fields)), plain, rounds)
    print(f"Status-Information APDUs in corpus: {len(apdus)}")
    verdict = "met" if codec >= TARGET else "NOT met"
    print(f"decode+encode: {codec:,.0f}/s (target >= {TARGET:,}/s: {verdict})")
    print(f"baseline json dumps+loads of the same fields: {baseline:,.0f}/s")
    print(f"ratio codec/baseline: {codec / baseline:.2f}")


if __name__ == "__main__":
    main()
