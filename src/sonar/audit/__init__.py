"""What an auditor relies on: the access log, chain verification, checkpoints, time travel."""
