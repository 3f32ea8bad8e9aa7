"""Missed-appointment and reminder notifications: the scheduler, the outbox and its channels."""
