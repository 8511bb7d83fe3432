"""`tunetext serve`: one saved model behind an HTTP API, with micro-batching, limits and an access log."""

from tunetext.serve.app import create_app
from tunetext.serve.batcher import MicroBatcher, QueueFull
from tunetext.serve.settings import ServeSettings

__all__ = ["MicroBatcher", "QueueFull", "ServeSettings", "create_app"]
