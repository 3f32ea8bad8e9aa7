"""The problem document (RFC 9457) every refusal and failure is answered with.

``api.errors`` writes these as plain dicts; this model is their published schema, so it stays
open (a refusal may add a member such as ``existing_patient_id``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProblemEntry(BaseModel):
    """One thing wrong with the request, to show beside the field it names."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    field: str | None = Field(None, description="The field, dotted (e.g. answers.opiates_days).")
    in_: str | None = Field(None, alias="in",
                            description="Where the field was sent: body, query, path or header.")
    pointer: str | None = Field(None, description="JSON pointer to the value in the body.")
    rule: str = Field(description="The rule the value broke (e.g. top.days_range).")
    detail: str = Field(description="What is wrong, in words a clinician can act on.")


class Problem(BaseModel):
    """Why the request was refused or could not be completed (RFC 9457 problem details)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="A short, human summary of the kind of problem.")
    status: int = Field(description="The HTTP status code, repeated.")
    detail: str = Field(description="What went wrong this time, and what to do about it.")
    instance: str = Field(description="The path of the request that was refused.")
    rule: str = Field(description="The rule that refused it (e.g. access.relationship).")
    errors: list[ProblemEntry] | None = Field(
        None, description="Each invalid value, when the request had any.")
