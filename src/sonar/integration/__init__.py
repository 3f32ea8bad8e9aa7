"""Integration with the outside world: Kafka, notifications, FHIR, NDTMS."""
