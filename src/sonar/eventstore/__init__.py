"""The event store: persistence of the care-record log only (mapper, hash chain, recorders,
group commit, caches, codecs). It knows nothing of use cases or HTTP."""
