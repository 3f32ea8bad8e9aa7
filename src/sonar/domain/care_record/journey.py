"""The journey on the care record: police custody, prison reception, transfers, release and
recall, each a move that cannot be dated before the previous one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sonar.domain import codes
from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordArea, RecordEvent, place_name
from sonar.domain.identity import PncId, PrisonNumber
from sonar.domain.journey import Movement


class Moved(RecordEvent):
    """Base of journey events; subclasses name the step."""

    kind: str
    setting: str
    location: str | None
    detail: str | None

    def apply(self, aggregate: RecordArea) -> None:
        aggregate.journey.move(Movement(self.originator_version, self.attribution.occurred_at,
                                        self.kind, self.setting, self.location, self.detail))


class JourneySteps(RecordArea):
    """Moves across settings; ``sonar.domain.journey.Journey`` holds which are allowed."""

    class DetainedInPoliceCustody(Moved):
        pnc_id: PncId | None

        def apply(self, aggregate: RecordArea) -> None:
            super().apply(aggregate)
            if self.pnc_id is not None:
                aggregate.identity = replace(aggregate.identity, pnc_id=self.pnc_id)

    class ReleasedFromPoliceCustody(Moved):
        pass

    class ReceivedIntoPrison(Moved):
        prison_number: PrisonNumber | None

        def apply(self, aggregate: RecordArea) -> None:
            super().apply(aggregate)
            if self.prison_number is not None:
                aggregate.identity = replace(aggregate.identity,
                                             prison_number=self.prison_number)

    class TransferredBetweenEstablishments(Moved):
        from_establishment: str | None

    class ReleasedFromPrison(Moved):
        pass

    class RecalledToPrison(Moved):
        pass

    def _move(self, event_class: type[Moved], attribution: Attribution, **facts: Any) -> None:
        """Record a move: not before birth, nor before the person's previous move."""
        self._check_clinical_time(attribution)
        self.journey.check_order(attribution.occurred_at)
        self._trigger(event_class, attribution, **facts)

    def detain_in_police_custody(self, custody_suite: str, pnc_id: PncId | None,
                                 attribution: Attribution) -> None:
        self.journey.check_police_detention()
        self._move(self.DetainedInPoliceCustody, attribution, kind="detained_in_police_custody",
                   setting="police_custody", location=place_name(custody_suite, "custody_suite"),
                   detail=None, pnc_id=pnc_id)

    def release_from_police_custody(self, outcome: str, attribution: Attribution) -> None:
        self.journey.check_police_release()
        codes.POLICE_CUSTODY_OUTCOME.check(outcome, field="outcome")
        held = outcome == "remanded_to_court"
        self._move(self.ReleasedFromPoliceCustody, attribution,
                   kind="released_from_police_custody",
                   setting="police_custody" if held else "community",
                   location="court" if held else None, detail=outcome)

    def receive_into_prison(self, establishment: str, prison_number: PrisonNumber | None,
                            attribution: Attribution) -> None:
        self.journey.check_prison_reception()
        self._move(self.ReceivedIntoPrison, attribution, kind="received_into_prison",
                   setting="prison", location=place_name(establishment, "establishment"),
                   detail=None, prison_number=prison_number)

    def transfer(self, to_establishment: str, attribution: Attribution) -> None:
        to = place_name(to_establishment, "to_establishment")
        self.journey.check_transfer(to)
        self._move(self.TransferredBetweenEstablishments, attribution,
                   kind="transferred_between_establishments", setting="prison", location=to,
                   detail=None, from_establishment=self.journey.location)

    def release_from_prison(self, release_type: str, destination_area: str | None,
                            attribution: Attribution) -> None:
        self.journey.check_prison_release()
        codes.RELEASE_TYPE.check(release_type, field="release_type")
        area = place_name(destination_area, "destination_area") if destination_area else None
        self._move(self.ReleasedFromPrison, attribution, kind="released_from_prison",
                   setting="community", location=area, detail=release_type)

    def recall_to_prison(self, recall_type: str, establishment: str,
                         attribution: Attribution) -> None:
        self.journey.check_recall()
        codes.RECALL_TYPE.check(recall_type, field="recall_type")
        self._move(self.RecalledToPrison, attribution, kind="recalled_to_prison",
                   setting="prison", location=place_name(establishment, "establishment"),
                   detail=recall_type)
