"""Rasa's calls to its HTTP endpoints (above all the action server) reuse their connections.

Rasa 3.6 opens a new aiohttp session for every call to an endpoint (`EndpointConfig.request`), and with
it a new TCP connection that it closes after the answer: each custom action sets up and tears down a
connection on both servers. Here the sessions Rasa opens, configured as Rasa configures them, share one
connection pool per event loop, and closing a session leaves the pool open. A connection is kept
KEEPALIVE_SECONDS after its last use: less than the action server keeps an idle one (Sanic's 5 s), so
the action server does not close a connection just as it is being reused. A connection the other side
has closed (the action server restarted) leaves the pool when its end arrives; a call that meets a
broken one fails as a call to a stopped server does (`action_guard` answers the learner). No limit on
connections at once, as before. Installed by `rasa_speedups.install()`.
Replaces: `rasa.utils.endpoints:EndpointConfig.session`; relies on `rasa.utils.endpoints:EndpointConfig.request`
closing each session after one call (checked against Rasa 3.6.21).
"""

import asyncio
import weakref

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

REPLACES = {
    "rasa.utils.endpoints:EndpointConfig.session": {
        "signature": "(self) -> aiohttp.client.ClientSession",
        "sha256": "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    },
    "rasa.utils.endpoints:EndpointConfig.request": {
        "signature": "(self, method: str = 'post', subpath: Optional[str] = None, content_type: Optional[str] = 'application/json', compress: bool = False, **kwargs: Any) -> Optional[Any]",  # noqa: E501 - as Rasa writes it
        "sha256": "ccdb778aed8208e23cde3c3f47eac7fbbbb735dac8f7ef7254d54451c64ad608",
    },
}

KEEPALIVE_SECONDS = 2.0
_rasas_session = EndpointConfig.session
_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector]" = weakref.WeakKeyDictionary()


def pool() -> aiohttp.TCPConnector:
    """The running event loop's connection pool."""
    loop = asyncio.get_running_loop()
    connector = _pools.get(loop)
    if connector is None or connector.closed:
        connector = _pools[loop] = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_SECONDS)
    return connector


def pooled_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's session for the endpoint, on the loop's shared pool."""
    auth = (aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
            if endpoint.basic_auth else None)
    return aiohttp.ClientSession(headers=endpoint.headers, auth=auth, connector=pool(), connector_owner=False,
                                 timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))


def install() -> None:
    EndpointConfig.session = pooled_session
