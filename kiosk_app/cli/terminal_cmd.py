"""`kiosk terminal ...` for a technician at a real terminal, and `kiosk terminal-sim`."""

from __future__ import annotations

import dataclasses
import json
import signal
import threading
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from payment_terminal.ecr import Terminal
from payment_terminal.profile import CURRENCIES, TerminalProfile
from payment_terminal.protocol.errors import ZvtError
from payment_terminal.records import OpenPreauthorisation, Reservation, StatusUpdate
from payment_terminal.simulator import TerminalSimulator
from payment_terminal.simulator.control import ControlServer


def _minor_units(value: str, currency: str, zero_allowed: bool = False) -> int:
    """A decimal amount ("12.34") in minor units of `currency`; usage error otherwise."""
    exponent = CURRENCIES[currency][1]
    try:
        minor = Decimal(value).scaleb(exponent)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a decimal amount") from None
    if not minor.is_finite() or minor != minor.to_integral_value() or minor < 0:
        raise click.BadParameter(f"{value!r} is not an amount in {currency}")
    if minor == 0 and not zero_allowed:
        raise click.BadParameter(f"{value!r} must be more than zero")
    return int(minor)


def _echo(payload: Any) -> None:
    click.echo(json.dumps(payload, default=str, ensure_ascii=False))


def _status_line(update: StatusUpdate) -> None:
    click.echo(f"[{update.code:02X}] {update.key} {update.text}".rstrip(), err=True)


def _run(ctx: click.Context, action: Callable[[Terminal], Any]) -> None:
    params = ctx.parent.params if ctx.parent else ctx.params
    profile = TerminalProfile(
        password=params["password"],
        currency=params["currency"],
        capture_style=params["capture_style"],
    )
    try:
        with Terminal(params["link"], profile, on_status=_status_line) as terminal:
            terminal.register()
            _echo(action(terminal))
    except ZvtError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from None


@click.group()
@click.option("--link", required=True, help="Serial device, pyserial URL or tcp://host:port.")
@click.option("--password", default="000000", show_default=True, help="6-digit PT password.")
@click.option("--currency", type=click.Choice(sorted(CURRENCIES)), default="EUR", show_default=True)
@click.option(
    "--capture-style",
    type=click.Choice(["book_total", "partial_reversal"]),
    default="book_total",
    show_default=True,
)
def terminal(link: str, password: str, currency: str, capture_style: str) -> None:
    """Talk to a ZVT card terminal (registers first, prints JSON)."""
    if not (len(password) == 6 and password.isdigit()):
        raise click.BadParameter("expected 6 digits", param_hint="--password")


@terminal.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Status-Enquiry."""
    _run(ctx, lambda t: dataclasses.asdict(t.status_enquiry()))


@terminal.command("preauth")
@click.option("--amount", required=True, help="Amount to hold, e.g. 25.00.")
@click.option("--reference", default="", help="Our transaction reference (TLV E9).")
@click.pass_context
def preauth(ctx: click.Context, amount: str, reference: str) -> None:
    """Pre-authorise an amount; prints the reservation."""
    currency = ctx.parent.params["currency"]
    minor = _minor_units(amount, currency)
    _run(ctx, lambda t: dataclasses.asdict(t.preauthorise(minor, currency, reference)))


def _reservation(ctx: click.Context, receipt: int, reserved: str, trace: int | None, aid: str):
    currency = ctx.parent.params["currency"]
    return Reservation(
        amount_minor=_minor_units(reserved, currency),
        currency=currency,
        receipt_no=receipt,
        trace_no=trace,
        terminal_id="",
        aid=aid,
        card_brand="",
        masked_pan="",
        auth_code=aid,
        timestamp=None,
        reference="",
        card_reference="",
    )


@terminal.command("capture")
@click.option("--receipt", type=int, required=True, help="Receipt number of the reservation.")
@click.option("--reserved", required=True, help="Amount held, e.g. 25.00.")
@click.option("--amount", required=True, help="Final amount to capture, e.g. 12.34.")
@click.option("--trace", type=int, default=None, help="Trace number of the reservation.")
@click.option("--aid", default="", help="Authorisation attribute (BMP 3B) of the reservation.")
@click.pass_context
def capture(
    ctx: click.Context, receipt: int, reserved: str, amount: str, trace: int | None, aid: str
) -> None:
    """Capture the final amount of a reservation."""
    held = _reservation(ctx, receipt, reserved, trace, aid)
    final = _minor_units(amount, held.currency, zero_allowed=True)
    if final > held.amount_minor:
        raise click.BadParameter("more than the reserved amount", param_hint="--amount")
    _run(ctx, lambda t: dataclasses.asdict(t.capture(held, final)))


@terminal.command("release")
@click.option("--receipt", type=int, required=True, help="Receipt number of the reservation.")
@click.option("--reserved", default=None, help="Amount held, e.g. 25.00 (optional).")
@click.pass_context
def release(ctx: click.Context, receipt: int, reserved: str | None) -> None:
    """Release a reservation (06 25)."""
    currency = ctx.parent.params["currency"]
    amount = _minor_units(reserved, currency) if reserved else None
    held = OpenPreauthorisation(receipt, currency, amount)
    _run(ctx, lambda t: dataclasses.asdict(t.release(held)))


@terminal.command("end-of-day")
@click.pass_context
def end_of_day(ctx: click.Context) -> None:
    """End-of-Day: close the batch, print the totals."""
    _run(ctx, lambda t: dataclasses.asdict(t.end_of_day()))


@terminal.command("open-preauths")
@click.pass_context
def open_preauths(ctx: click.Context) -> None:
    """List the receipt numbers of open pre-authorisations."""
    _run(ctx, lambda t: [dataclasses.asdict(o) for o in t.open_preauthorisations()])


@terminal.command("read-card")
@click.option(
    "--timeout", type=click.IntRange(1, 255), default=30, show_default=True, help="Seconds."
)
@click.pass_context
def read_card(ctx: click.Context, timeout: int) -> None:
    """Read Card: brand, masked PAN and card reference (unkeyed) of the presented card, or
    {"card": null} when none was presented. Compare the reference with a preauth's."""

    def read(terminal: Terminal) -> dict:
        card = terminal.read_card(timeout)
        return {"card": dataclasses.asdict(card) if card else None}

    _run(ctx, read)


@click.command("terminal-sim")
@click.option("--link", default="pty", show_default=True, help="pty, a serial device or tcp://.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Delay factor.")
@click.option("--control-port", type=int, default=None, help="HTTP control port (0 = any).")
@click.option("--tlv/--no-tlv", default=True, show_default=True)
@click.option("--receipts", type=click.Choice(["lines", "block"]), default="lines")
@click.option("--password", default="000000", show_default=True)
def terminal_sim(
    link: str, speed: float, control_port: int | None, tlv: bool, receipts: str, password: str
) -> None:
    """Run the terminal simulator until interrupted; prints one JSON line with its links."""
    if speed < 0:
        raise click.BadParameter("must be >= 0", param_hint="--speed")
    sim = TerminalSimulator(link, speed=speed, tlv=tlv, receipts=receipts, password=password)
    try:
        sim.start()
    except (OSError, ZvtError) as exc:
        raise click.ClickException(f"cannot start the simulator on {link}: {exc}") from None
    control = ControlServer(sim, port=control_port) if control_port is not None else None
    if control:
        control.start()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    # Announced only once a SIGTERM can no longer kill it mid-way.
    _echo({"link": sim.link_url, "control": control.url if control else None})
    stopped.wait()
    if control:
        control.stop()
    sim.stop()
