"""The simulator's control port (HTTP on localhost), for a simulator in another process.

GET /journal -> the journal as JSON; POST /scenario {"name": "decline", "result_code": 5}
queues a scenario (or arms a transport fault) for the next transaction; POST /card
{"card": "visa"} makes the customer present that card from now on ({"card": null}: none).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from payment_terminal.simulator.terminal import TerminalSimulator


class ControlServer:
    def __init__(self, simulator: TerminalSimulator, host: str = "127.0.0.1", port: int = 0):
        handler = type("Handler", (_Handler,), {"simulator": simulator})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    simulator: TerminalSimulator

    def do_GET(self) -> None:
        if self.path == "/journal":
            self._reply(200, self.simulator.journal.to_dict())
        else:
            self._reply(404, {"error": f"no such resource {self.path}"})

    def do_POST(self) -> None:
        if self.path == "/scenario":
            self._post(self._scenario)
        elif self.path == "/card":
            self._post(self._card)
        else:
            self._reply(404, {"error": f"no such resource {self.path}"})

    def _post(self, action: Callable[[dict], dict]) -> None:
        """Run `action` on the JSON body; a bad body is a 400 naming the problem."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            answer = action(body)
        except (ValueError, KeyError, TypeError) as exc:
            self._reply(400, {"error": f"bad {self.path[1:]} request: {exc}"})
            return
        self._reply(200, answer)

    def _scenario(self, body: dict) -> dict:
        self.simulator.push_scenario(str(body["name"]), body.get("result_code"))
        return {"queued": body["name"]}

    def _card(self, body: dict) -> dict:
        name = body["card"]
        if name is not None and not isinstance(name, str):
            raise TypeError("card: expected a card name or null")
        self.simulator.present_card(name)
        return {"card": name}

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default per-request stderr log."""
