"""Readiness for load balancers and Kubernetes: GET /webhooks/health/ready answers 200 once this Rasa
server has loaded its model, 503 before. Rasa's own `/status` needs the API token, and `/` answers
even when no model is loaded. Nothing about any conversation is shown here. Its blueprint also freezes
the started server's heap (rasa_speedups/heap.py).
"""

from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from rasa_speedups.heap import freeze_after_start


class ReadinessInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "health"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        health = Blueprint("health", __name__)

        @health.route("/ready", methods=["GET"])
        async def ready(request: Request):
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"ready": False}, status=503)
            return response.json({"ready": True, "model": agent.model_id})

        freeze_after_start(health)
        return health
