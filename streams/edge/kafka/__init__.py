"""Kafka outside the stream (kafka-python): admin, topics, the start's checks, the scenario
versions log, ``rebound tail``."""
