"""Developer tools that are not part of the SONAR runtime package (a local Kafka broker)."""
