"""TCP links: bare APDUs, arbitrary segmentation, reconnect after a drop."""

from __future__ import annotations

import select
import socket
import time
from collections import deque

from payment_terminal.protocol.apdu import ApduStream
from payment_terminal.protocol.errors import TransmissionError

DEFAULT_PORT = 20007


def parse_tcp_url(url: str) -> tuple[str, int]:
    """`tcp://host[:port]` -> (host, port); the port defaults to 20007 (Feig uses 22000)."""
    rest = url.removeprefix("tcp://").rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep:
        return rest, DEFAULT_PORT
    if not port.isdigit():
        raise ValueError(f"invalid port in {url!r}")
    return host.strip("[]"), int(port)


class _Stream:
    """APDU reassembly over one connected socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.stream = ApduStream()
        self.inbox: deque[bytes] = deque()

    def receive(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        while not self.inbox:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                return None
            try:
                chunk = self.sock.recv(65536)
            except OSError as exc:
                raise TransmissionError(f"connection lost: {exc}") from None
            if not chunk:
                raise TransmissionError("connection closed by the peer")
            self.inbox.extend(self.stream.feed(chunk))
        return self.inbox.popleft()

    def send(self, apdu: bytes) -> None:
        try:
            self.sock.sendall(apdu)
        except OSError as exc:
            raise TransmissionError(f"connection lost: {exc}") from None


class TcpLink:
    """The ECR side: connects to the PT; a dropped connection is reopened on the next send."""

    def __init__(self, host: str, port: int = DEFAULT_PORT, connect_timeout: float = 5.0) -> None:
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self._stream: _Stream | None = None

    def open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
        except OSError as exc:
            raise TransmissionError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._stream = _Stream(sock)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.sock.close()
            self._stream = None

    def send(self, apdu: bytes) -> None:
        if self._stream is None:
            self.open()
        assert self._stream is not None
        try:
            self._stream.send(apdu)
        except TransmissionError:
            self.close()
            raise

    def receive(self, timeout: float) -> bytes | None:
        if self._stream is None:
            raise TransmissionError("not connected")
        try:
            return self._stream.receive(timeout)
        except TransmissionError:
            self.close()
            raise


class TcpServerLink:
    """The PT side (simulator): listens and serves one ECR connection at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._listener: socket.socket | None = None
        self._stream: _Stream | None = None

    def open(self) -> None:
        listener = socket.create_server((self.host, self.port), reuse_port=False)
        self._listener = listener
        self.port = listener.getsockname()[1]

    def close(self) -> None:
        self.drop()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def drop(self) -> None:
        """Close the current ECR connection (a disconnect mid-transaction)."""
        if self._stream is not None:
            self._stream.sock.close()
            self._stream = None

    def send(self, apdu: bytes) -> None:
        if self._stream is None:
            raise TransmissionError("no ECR connected")
        try:
            self._stream.send(apdu)
        except TransmissionError:
            self.drop()
            raise

    def receive(self, timeout: float) -> bytes | None:
        if self._stream is None and not self._accept(timeout):
            return None
        assert self._stream is not None
        try:
            return self._stream.receive(timeout)
        except TransmissionError:
            self.drop()
            raise

    def _accept(self, timeout: float) -> bool:
        assert self._listener is not None
        ready, _, _ = select.select([self._listener], [], [], timeout)
        if not ready:
            return False
        sock, _ = self._listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._stream = _Stream(sock)
        return True
