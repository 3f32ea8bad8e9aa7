"""Read models (CQRS): projections of the event log into SQL tables, rebuildable any time."""
