"""voicebot: a self-hosted virtual telephone operator for Russian housing companies."""

__version__ = "0.1.0"
