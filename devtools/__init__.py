"""Development tools: the local stack (Kafka, Redis), demo traffic. Not installed."""
