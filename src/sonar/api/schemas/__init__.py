"""Request and response models of API v1: strict, closed, separate from the domain."""
