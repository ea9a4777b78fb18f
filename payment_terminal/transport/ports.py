"""Byte ports under the serial link: pyserial (any URL it knows) and a raw pty master fd."""

from __future__ import annotations

import os
import select
import termios
import tty

import serial

from payment_terminal.protocol.errors import TransmissionError


class SerialPort:
    """A pyserial port: `/dev/ttyUSB0`, `/dev/pts/N`, `socket://`, `rfc2217://`, `loop://`.

    ZVT wants 8 data bits, no parity, 2 stop bits, no handshake. RTS/DTR are never touched,
    so ptys (which refuse those ioctls) work as well as real ports.
    """

    def __init__(self, url: str, baudrate: int = 9600) -> None:
        self.url = url
        self.baudrate = baudrate
        self._serial: serial.SerialBase | None = None

    def open(self) -> None:
        try:
            self._serial = serial.serial_for_url(
                self.url,
                baudrate=self.baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_TWO,
                timeout=0,
                write_timeout=5,
            )
        except (serial.SerialException, ValueError, OSError) as exc:
            raise TransmissionError(f"cannot open {self.url}: {exc}") from None

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def read(self, timeout: float) -> bytes:
        port = self._require()
        fd = getattr(port, "fd", None)
        try:
            if isinstance(fd, int):
                # A local tty: wait on the descriptor instead of re-programming termios per read.
                ready, _, _ = select.select([fd], [], [], max(timeout, 0))
                return os.read(fd, 4096) if ready else b""
            if port.timeout != max(timeout, 0):
                port.timeout = max(timeout, 0)
            first = port.read(1)
            if not first:
                return b""
            return first + port.read(port.in_waiting or 0)
        except (serial.SerialException, OSError) as exc:
            raise TransmissionError(f"read from {self.url} failed: {exc}") from None

    def write(self, data: bytes) -> None:
        try:
            self._require().write(data)
        except (serial.SerialException, OSError) as exc:
            raise TransmissionError(f"write to {self.url} failed: {exc}") from None

    def _require(self) -> serial.SerialBase:
        if self._serial is None:
            raise TransmissionError(f"{self.url} is not open")
        return self._serial


class PtyPort:
    """The master side of a fresh pty pair; `device_path` is the slave for the other party.

    The slave is put in raw mode at 9600 baud and kept open here, so reads on the master
    never fail with EIO while the peer closes and reopens the device.
    """

    def __init__(self, baudrate: int = 9600) -> None:
        self.baudrate = baudrate
        self._master: int | None = None
        self._slave: int | None = None
        self.device_path = ""

    def open(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        attrs = termios.tcgetattr(self._slave)
        speed = getattr(termios, f"B{self.baudrate}")
        attrs[4] = attrs[5] = speed
        attrs[2] |= termios.CSTOPB
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self.device_path = os.ttyname(self._slave)

    def close(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def read(self, timeout: float) -> bytes:
        fd = self._require()
        ready, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not ready:
            return b""
        try:
            return os.read(fd, 4096)
        except OSError as exc:
            raise TransmissionError(f"pty read failed: {exc}") from None

    def write(self, data: bytes) -> None:
        fd = self._require()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def _require(self) -> int:
        if self._master is None:
            raise TransmissionError("pty is not open")
        return self._master
