"""Adapters to the outside world: Kafka and FHIR."""
