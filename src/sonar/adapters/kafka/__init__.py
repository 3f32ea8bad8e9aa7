"""Apache Kafka: the relay that publishes the log, topics and envelopes, alerts, and the
projection worker that consumes it."""
