"""Domain errors: each names the rule that failed so a clinician can act on it."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the care record refuses to break.

    ``rule`` is a stable machine-readable name (used in problem details), ``field`` the
    input it concerns, if any.
    """

    def __init__(self, message: str, *, rule: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field


class InvalidValue(DomainError):
    """A value is malformed or out of its clinical range (HTTP 422)."""


class IllegalStep(DomainError):
    """A pathway or journey step is not allowed in the record's current state (HTTP 409)."""


class InvalidValues(InvalidValue):
    """Several values failed at once; all are reported so a form can be fixed in one go."""

    def __init__(self, problems: list[InvalidValue]) -> None:
        first = problems[0]
        super().__init__(first.message, rule=first.rule, field=first.field)
        self.problems = problems


def raise_all(problems: list[InvalidValue]) -> None:
    """Raise the one problem, or all of them together; do nothing when there are none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidValues(problems)
