"""The web UI for ops, supervisors and staff: server-rendered pages on the API application."""

from voicebot.web.routes import mount, router

__all__ = ["mount", "router"]
