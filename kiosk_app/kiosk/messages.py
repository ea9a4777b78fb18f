"""The driver-facing texts behind message keys: terminal prompts, progress, errors.

The engine speaks in keys (a ZVT intermediate status becomes "enter_pin", a refused start
becomes "start_rejected"); the screen turns a key into a sentence in the driver's language here.
Every text is in every catalogue (tests/kiosk/test_catalogues.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# Terminal prompts and progress steps, shown in the live status region as they arrive.
PROMPTS: dict[str, LazyString] = {
    "insert_card": _l("Insert your card or hold it against the card terminal."),
    "enter_pin": _l("Enter your PIN on the card terminal."),
    "pin_retry": _l("Wrong PIN. Please enter your PIN again."),
    "please_wait": _l("Please wait…"),
    "remove_card": _l("Please remove your card."),
    "approved": _l("Payment approved."),
    "starting": _l("Starting the charge point…"),
    "plug_in": _l("Plug the cable into your car."),
    "charging": _l("Charging has started."),
    "stopping": _l("Stopping…"),
    "finished": _l("Charging has ended."),
}
# A prompt key this screen does not know yet still gets a sentence in the driver's language.
UNKNOWN_PROMPT = _l("Please follow the instructions on the card terminal.")


@dataclass(frozen=True)
class Explanation:
    """What went wrong and what the driver can do next."""

    text: LazyString
    next_step: LazyString


ERRORS: dict[str, Explanation] = {
    "declined": Explanation(_l("Your card was declined."), _l("Please try another card.")),
    "insufficient_funds": Explanation(
        _l("The amount could not be held on your card."), _l("Please try another card.")
    ),
    "card_unreadable": Explanation(
        _l("Your card could not be read."),
        _l("Please insert the card again or try another card."),
    ),
    "aborted": Explanation(
        _l("The payment was cancelled."), _l("You can start again whenever you like.")
    ),
    "timeout": Explanation(
        _l("The card terminal waited too long for your card."), _l("Please start again.")
    ),
    "terminal_not_ready": Explanation(
        _l("The card terminal is not ready."),
        _l("Please try again in a few minutes or call us."),
    ),
    "start_rejected": Explanation(
        _l("The charge point did not start."), _l("Please choose another charge point.")
    ),
    "evse_occupied": Explanation(
        _l("This charge point is no longer free."), _l("Please choose another charge point.")
    ),
    "evse_not_served": Explanation(
        _l("This charge point cannot be chosen at this kiosk."),
        _l("Please choose another charge point."),
    ),
    "nothing_to_charge": Explanation(
        _l("No energy was delivered to your car."),
        _l("Please check the cable or choose another charge point."),
    ),
    "ended_by_operator": Explanation(
        _l("The charging park ended this transaction."),
        _l("If you have questions, please call us."),
    ),
    "no_plugin": Explanation(
        _l("No car was plugged in within the time allowed."),
        _l("Please start again and plug in your car before the countdown ends."),
    ),
    "session_invalid": Explanation(
        _l("This charging session is no longer active."), _l("Please start again.")
    ),
    "session_not_found": Explanation(
        _l("No charging session has this code."),
        _l("Please check the code or present your card instead."),
    ),
    "card_not_read": Explanation(
        _l("The card terminal did not read a card."),
        _l("Please try again and hold your card against the card terminal, or enter your code."),
    ),
    "card_not_found": Explanation(
        _l("No charging session was found for this card."),
        _l("Please enter your session code instead."),
    ),
    "unknown_kiosk": Explanation(_l("This kiosk is not set up."), _l("Please call us.")),
    "page_not_found": Explanation(
        _l("This page does not exist."), _l("Please go back to the start.")
    ),
    "bad_request": Explanation(
        _l("That did not work."), _l("Please go back to the start and try again.")
    ),
    "internal_error": Explanation(
        _l("Something went wrong on our side."),
        _l("Please try again. If it happens again, call us."),
    ),
}


def prompt_text(key: str) -> str:
    """The sentence for a terminal prompt or progress key, in the current language."""
    return str(PROMPTS.get(key, UNKNOWN_PROMPT))


def explain(reason: str) -> Explanation:
    """The explanation of an error key; an unknown key reads as an internal error."""
    return ERRORS.get(reason, ERRORS["internal_error"])
