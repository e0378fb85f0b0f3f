"""How much one client may send the Rasa server.

Sanic reads request bodies of up to 100 MB by default, and engine.io socket.io packets of up to 1 MB:
a 5 MB REST message held the server for 14.5 s while health checks waited. The channels cap both at
MAX_REQUEST_BYTES (256 KiB): Sanic answers a larger body with 413 before reading it, engine.io closes
the socket that sends a larger packet. HAProxy refuses larger bodies in front (`ops/cluster.py`).
"""

from sanic import Blueprint

from core import settings


def with_request_size_cap(blueprint: Blueprint) -> Blueprint:
    """`blueprint`, capping the whole app's request bodies when the server starts (Sanic reads the cap
    for each new connection)."""

    @blueprint.listener("before_server_start")
    async def cap_request_size(app, _loop) -> None:
        app.config.REQUEST_MAX_SIZE = settings.max_request_bytes()

    return blueprint
