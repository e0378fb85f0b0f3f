"""Sanic 21.12's websocket receive working on Python 3.11, so the widget can talk socket.io over websocket.

Sanic 21.12 (the release Rasa 3.6 pins) receives a websocket message in `WebsocketImplProtocol.recv`
and `recv_burst` by racing a cancel future against the frame assembler's `get()` coroutine with
`asyncio.wait`. Python 3.11 refuses bare coroutines there (TypeError), so on 3.11 every websocket closed
at its first message from the client: engine.io's upgrade "succeeded", then the socket died, and the
channel had to stay on long-polling. Here `get()` hands back a task running Sanic's own coroutine,
which is what `asyncio.wait` made of it on Python 3.10; awaiting it directly works as before. Later
Sanic releases wrap it in a task themselves. Installed by `channels/__init__.py`, whatever RASA_SPEEDUPS
says: it is a fix, not a speed-up.
Replaces: `sanic.server.websockets.frame:WebsocketFrameAssembler.get`; relies on
`sanic.server.websockets.impl:WebsocketImplProtocol.recv` and
`sanic.server.websockets.impl:WebsocketImplProtocol.recv_burst` being its only callers (checked against
Rasa 3.6.21, whose pinned Sanic is 21.12.2).
"""

import asyncio
from typing import Optional

from sanic.server.websockets.frame import WebsocketFrameAssembler

REPLACES = {
    "sanic.server.websockets.frame:WebsocketFrameAssembler.get": {
        "signature": "(self, timeout: Optional[float] = None) -> Union[str, bytes, NoneType]",
        "sha256": "fb0b82e6aecd9520b803b1af5fe62d4749209ed490dabc79a3b43ab6cdda10e4",
    },
    "sanic.server.websockets.impl:WebsocketImplProtocol.recv": {
        "signature": "(self, timeout: Optional[float] = None) -> Union[str, bytes, NoneType]",
        "sha256": "7e24981d29951740e5e1e41532b9b2b0f73d0735967ef4e0bbd8a14fe08a0cac",
    },
    "sanic.server.websockets.impl:WebsocketImplProtocol.recv_burst": {
        "signature": "(self, max_recv=256) -> Sequence[Union[str, bytes]]",
        "sha256": "e86bcebdbe2b6b2d8132d5e4eed08c6665077e0204f3cca43a8025d476d5902b",
    },
}

_sanics_get = WebsocketFrameAssembler.get


def get_as_task(assembler: WebsocketFrameAssembler, timeout: Optional[float] = None) -> asyncio.Task:
    """Sanic's `get()`, running as a task: something `asyncio.wait` takes on every Python."""
    return asyncio.ensure_future(_sanics_get(assembler, timeout))


def install() -> None:
    WebsocketFrameAssembler.get = get_as_task
