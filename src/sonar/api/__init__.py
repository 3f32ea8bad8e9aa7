"""The HTTP API: routes made from the command registry, read routes, problem details."""
