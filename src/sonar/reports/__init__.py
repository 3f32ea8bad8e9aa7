"""National and clinical reports: the NDTMS return and the release summary."""
