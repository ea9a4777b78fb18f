"""Link URLs: a serial device or pyserial URL, `tcp://host:port`, and `pty` for the simulator."""

from __future__ import annotations

from payment_terminal.protocol.timers import Timers
from payment_terminal.transport import Link
from payment_terminal.transport.ports import PtyPort, SerialPort
from payment_terminal.transport.serial_link import SerialLink
from payment_terminal.transport.tcp_link import TcpLink, TcpServerLink, parse_tcp_url


def open_ecr_link(url: str, timers: Timers, baudrate: int = 9600) -> Link:
    """The ECR's link: `tcp://host:port` connects out; anything else goes through pyserial."""
    if url.startswith("tcp://"):
        host, port = parse_tcp_url(url)
        return TcpLink(host, port, connect_timeout=timers.t3)
    return SerialLink(SerialPort(url, baudrate), timers)


def open_pt_link(url: str, timers: Timers, baudrate: int = 9600) -> Link:
    """The simulator's link: `tcp://host:port` listens, `pty` makes a pty pair, else pyserial."""
    if url.startswith("tcp://"):
        host, port = parse_tcp_url(url)
        return TcpServerLink(host, port)
    if url == "pty":
        return SerialLink(PtyPort(baudrate), timers)
    return SerialLink(SerialPort(url, baudrate), timers)
