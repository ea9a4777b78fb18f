"""The cards a simulated customer can present: what the simulated PT reports about each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SimCard:
    """A card as the PT shows it: PAN with only BIN and last 4 digits (`e` = masked), the
    brand (BMP 8A/8B), its EMV application id (TLV 43) and expiry (YYMM, track 2 only)."""

    name: str
    brand: str
    card_type: int
    pan: str
    aid: bytes
    expiry: str = "2812"

    @property
    def track2(self) -> str:
        """Track 2 as a Feig PT sends it after Read Card: PAN, separator D, expiry, the
        discretionary data masked."""
        return f"{self.pan}d{self.expiry}eeeeeee"

    @property
    def identifier(self) -> bytes:
        """The PT's card identifier (TLV 1F14, 16 bytes): a hash only the PT can compute; here
        one derived from the card so that it is the same at every presentation."""
        return hashlib.sha256(f"sim-card|{self.name}|{self.pan}".encode()).digest()[:16]


CARDS = {
    card.name: card
    for card in (
        SimCard(
            "mastercard", "Mastercard", 0x06, "559883eeeeee8074", bytes.fromhex("a0000000041010")
        ),
        SimCard("visa", "Visa", 0x0A, "492913eeeeee4417", bytes.fromhex("a0000000031010")),
        SimCard(
            "girocard",
            "girocard",
            0x05,
            "672590eeeeeeeee0142",
            bytes.fromhex("a0000003591010028001"),
        ),
    )
}
# The card presented unless the control API says otherwise.
DEFAULT_CARD = "mastercard"


def card_named(name: str | None) -> SimCard | None:
    """The card called `name`; None for no card. ValueError for unknown names."""
    if name is None:
        return None
    if name not in CARDS:
        raise ValueError(f"unknown card {name!r}; known: {', '.join(sorted(CARDS))}")
    return CARDS[name]
