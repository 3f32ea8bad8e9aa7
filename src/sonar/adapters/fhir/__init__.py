"""FHIR R4 (UK Core): export of a care record as a Bundle, and import of a GP record."""
