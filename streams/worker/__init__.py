"""The imperative shell: the Faust app, its agents, the dead-letter topic, the web pages."""

from streams.worker.app import create_app

__all__ = ["create_app"]
