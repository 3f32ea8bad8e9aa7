"""NDTMS-style extract for secure settings (issue 8, part 3), and its validation report.

NDTMS is England's national drug treatment monitoring return (../shared/DOMAIN.md). A prison
team submits it monthly; the rows here carry the classic field set, one row per SMS episode
that overlaps the reporting period, and the validation report lists the mandatory items each
episode is missing so the team can fix its data *before* the return is due.

Design choices (docs/ndtms.md has the full field mapping):

- **Built from the write model.** Rows come from :class:`CareRecord` itself, not from read
  models: an extract must be complete at the moment it is taken, and read models may lag the
  log or not be migrated at all where the CLI runs. Patients are listed from the event log
  (their ``Registered`` events, filtered by topic in the database), which is as current as
  the log itself; ``rm_patient`` would silently drop a person registered a moment ago.
- **As at the end of the period.** Facts dated (by clinical time) after ``period.end`` are
  left out, so the March return does not show an April discharge and a re-run later gives
  the same answer apart from late entries, which is what a corrected resubmission needs.
- **Pseudonymous client reference.** NDTMS must be able to link a person's episodes across
  monthly returns but must not receive the NHS number or name; the reference is an
  HMAC-SHA256 of the patient id under a per-deployment secret salt, so it is stable, cannot
  be reversed, and cannot be recomputed by anyone who only holds the extract.
- **Secure settings only.** Episodes referred while the person was in the community or in
  police custody belong to other services' returns and are left out; an episode referred
  before any journey step was recorded is kept, so its missing prison reception shows up in
  the validation report rather than the episode vanishing.
- **Not answered is not 0.** Cells are ``None`` (an empty CSV cell, JSON ``null``) when an
  item was not answered or not recorded; 0 is an answer.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sonar.domain.attribution import clinical_day
from sonar.domain.care_record import CareRecord
from sonar.domain.continuity import referred_on_release
from sonar.domain.journey import Movement
from sonar.domain.pathway import CarePlan, DualDiagnosis
from sonar.domain.sms_episode import Entry, Episode, EpisodeStatus
from sonar.domain.top import TOP_ITEMS, Top, TopValue
from sonar.eventstore.application import SonarApplication

Cell = str | int | float | bool | date | None
Row = dict[str, Cell]

# Interventions a care plan agrees, grouped into NDTMS modalities (SNOMED CT or local codes).
MODALITIES: Mapping[str, frozenset[str]] = {
    "pharmacological": frozenset({"304681000000107", "304721000000100"}),
    "psychosocial": frozenset({"299941000000103"}),
    "recovery_support": frozenset({"recovery_support"}),
}
MODALITY_REMOVED = "removed_from_care_plan"
CARE_PLAN_DUE_AFTER_DAYS = 14
TOP_START_DUE_AFTER_DAYS = 28
_CUSTODY_STARTS = ("received_into_prison", "recalled_to_prison")

COLUMNS: tuple[str, ...] = (
    "client_ref", "episode", "site", "sex", "date_of_birth",
    "referral_date", "referral_source", "referral_outcome", "triage_date",
    "care_plan_start_date", "days_in_treatment",
    "drug_1", "drug_2", "drug_3", "injecting_status", "dual_diagnosis",
    *(f"{m}_{part}" for m in MODALITIES for part in ("start", "end", "exit")),
    "discharge_date", "discharge_reason", "discharge_destination",
    "top_start_date", "top_start_before_custody",
    *(f"top_{item.code}" for item in TOP_ITEMS), "top_other_substance_name",
    "prison_reception_date", "prison_exit_date", "prison_exit_reason", "exit_destination",
    "referral_on_release",
)
REPORT_COLUMNS: tuple[str, ...] = (
    "client_ref", "episode", "site", "field", "rule", "detail", "patient_id")


@dataclass(frozen=True)
class Period:
    """A reporting period of whole clinical days in England, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            msg = "The period ends before it starts ('to' is before 'from')."
            raise ValueError(msg)


class NdtmsSettings(BaseSettings):
    """The extract's own settings, read from SONAR_NDTMS_* (kept beside the code they serve)."""

    model_config = SettingsConfigDict(env_prefix="SONAR_NDTMS_", extra="ignore")

    salt: SecretStr | None = Field(
        None, min_length=16,
        description="Secret key for client references; never change it once returns are made.")


# Development only: lets a developer run the extract without configuring a secret. Production
# refuses to run without SONAR_NDTMS_SALT, because references made with a published salt
# could be recomputed from patient ids.
DEVELOPMENT_SALT = b"sonar-development-ndtms-salt"


class NdtmsNotConfigured(Exception):
    """The deployment has no pseudonymisation salt, so no extract can be produced safely."""


def pseudonym_salt(environment: str) -> bytes:
    """The configured salt; the development salt outside production, else refuse."""
    configured = NdtmsSettings().salt
    if configured is not None:
        return configured.get_secret_value().encode()
    if environment == "production":
        raise NdtmsNotConfigured("Set SONAR_NDTMS_SALT (at least 16 characters) before "
                                 "producing an NDTMS extract in production.")
    return DEVELOPMENT_SALT


def client_reference(patient_id: UUID, salt: bytes) -> str:
    """A stable pseudonymous client reference: HMAC-SHA256(salt, patient id), 32 hex chars.

    128 bits make collisions negligible for any cohort, and the value reveals nothing
    about the person or the patient id without the salt.
    """
    return hmac.new(salt, str(patient_id).encode(), hashlib.sha256).hexdigest()[:32]


# --- rows ------------------------------------------------------------------------------------


def ndtms_rows(record: CareRecord, period: Period, site: str | None, *,
               salt: bytes) -> list[Row]:
    """One NDTMS row per secure-setting episode of this record that overlaps ``period``.

    ``site`` (an establishment, or None for all) keeps episodes whose caseload site (else
    the establishment the person was in at referral) is that site.
    """
    rows: list[Row] = []
    for episode in record.episodes:
        if not _overlaps(episode, period):
            continue
        stay = _Stay.at_referral(record, episode, period.end)
        if stay is None:
            continue
        episode_site = episode.caseload_site or stay.establishment
        if site is not None and episode_site != site:
            continue
        rows.append(_row(record, episode, period.end, episode_site, stay,
                         client_reference(record.id, salt)))
    return rows


def _day(moment: datetime | None, upto: date) -> date | None:
    """The clinical day of a moment, or None when there is none or it is after ``upto``."""
    if moment is None:
        return None
    day = clinical_day(moment)
    return day if day <= upto else None


def _overlaps(episode: Episode, period: Period) -> bool:
    if clinical_day(episode.referred_at) > period.end:
        return False
    return episode.ended_at is None or clinical_day(episode.ended_at) >= period.start


@dataclass(frozen=True)
class _Stay:
    """The custody stay an episode was referred in: reception, establishment, release."""

    reception: Movement | None
    establishment: str | None
    release: Movement | None

    @classmethod
    def at_referral(cls, record: CareRecord, episode: Episode, upto: date) -> _Stay | None:
        """The stay, or None when the referral was not made in prison (another return's)."""
        moves = record.journey.movements
        before = [m for m in moves if m.occurred_at <= episode.referred_at]
        if before and before[-1].setting != "prison":
            return None
        reception = next((m for m in reversed(before) if m.kind in _CUSTODY_STARTS), None)
        after = [m for m in moves if m.occurred_at > episode.referred_at
                 and _day(m.occurred_at, upto) is not None]
        release = next((m for m in after if m.kind == "released_from_prison"), None)
        return cls(reception, before[-1].location if before else None, release)


def _valid(episode: Episode, kind: type[object], upto: date) -> list[Entry]:
    """Valid (not in error) entries of a kind dated up to ``upto``, in clinical order."""
    found = [e for e in episode.valid_entries()
             if isinstance(e.value, kind) and clinical_day(e.occurred_at) <= upto]
    return sorted(found, key=lambda e: (e.occurred_at, e.version))


def _row(record: CareRecord, episode: Episode, upto: date, site: str | None, stay: _Stay,
         client_ref: str) -> Row:
    referral = episode.referral
    triage = _day(episode.accepted_at, upto)
    ended = _day(episode.ended_at, upto)
    discharge = episode.discharge if episode.status is EpisodeStatus.DISCHARGED and ended \
        else None
    outcome = episode.outcome.outcome if episode.outcome and (triage or ended) else None
    until = ended if discharge is not None and ended is not None else upto
    plans = [(clinical_day(e.occurred_at), e.value) for e in _valid(episode, CarePlan, upto)
             if isinstance(e.value, CarePlan)]
    dual = _valid(episode, DualDiagnosis, upto)
    drugs = list(referral.substances) + [None] * (3 - len(referral.substances))
    row: Row = {
        "client_ref": client_ref,
        "episode": episode.number,
        "site": site,
        "sex": record.demographics.sex,
        "date_of_birth": record.demographics.date_of_birth,
        "referral_date": clinical_day(episode.referred_at),
        "referral_source": referral.source,
        "referral_outcome": outcome,
        "triage_date": triage,
        "care_plan_start_date": plans[0][0] if plans else None,
        "days_in_treatment": (until - triage).days if triage else None,
        "drug_1": drugs[0], "drug_2": drugs[1], "drug_3": drugs[2],
        "injecting_status": referral.injecting_status,
        "dual_diagnosis": dual[-1].value.status
        if dual and isinstance(dual[-1].value, DualDiagnosis) else None,
    }
    row |= _modalities(plans, ended if discharge else None,
                       discharge.exit_reason if discharge else None)
    row |= {
        "discharge_date": ended if discharge else None,
        "discharge_reason": discharge.exit_reason if discharge else None,
        "discharge_destination": discharge.destination if discharge else None,
    }
    row |= _start_top(episode, upto)
    release = stay.release
    released_on = clinical_day(release.occurred_at) if release else None
    row |= {
        "prison_reception_date": clinical_day(stay.reception.occurred_at)
        if stay.reception else None,
        "prison_exit_date": released_on,
        "prison_exit_reason": release.detail if release else None,
        "exit_destination": release.location if release else None,
        "referral_on_release": _referred_on_release(episode, release, upto)
        if release else None,
    }
    return row


def _modalities(plans: Sequence[tuple[date, CarePlan]], discharged_on: date | None,
                exit_reason: str | None) -> Row:
    """Modality start/end/exit from care plan revisions.

    A modality starts on the first revision that agrees one of its interventions and ends
    on the first later revision without one (exit ``removed_from_care_plan``), or at
    discharge (exit = the discharge reason). If a modality stops and restarts, the start is
    the first one and the end and exit are those of the last spell (empty while it runs).
    """
    cells: Row = {}
    for modality, wanted in MODALITIES.items():
        start: date | None = None
        end: date | None = None
        exit_: str | None = None
        running = False
        for day, plan in plans:
            agreed = bool(wanted & set(plan.interventions))
            if agreed and not running:
                start = start or day
                end, exit_, running = None, None, True
            elif running and not agreed:
                end, exit_, running = day, MODALITY_REMOVED, False
        if running and discharged_on is not None:
            end, exit_ = discharged_on, exit_reason
        cells |= {f"{modality}_start": start, f"{modality}_end": end,
                  f"{modality}_exit": exit_}
    return cells


def _start_top(episode: Episode, upto: date) -> Row:
    """The start TOP's date and every item (None = not answered, never 0)."""
    start = next((e for e in _valid(episode, Top, upto)
                  if isinstance(e.value, Top) and e.value.stage == "start"), None)
    top = start.value if start is not None and isinstance(start.value, Top) else None
    answers: Mapping[str, TopValue] = top.answers.values if top else {}
    cells: Row = {
        "top_start_date": clinical_day(start.occurred_at) if start else None,
        "top_start_before_custody": top.before_custody if top else None,
    }
    cells |= {f"top_{item.code}": answers.get(item.code) for item in TOP_ITEMS}
    cells["top_other_substance_name"] = top.answers.other_substance_name if top else None
    return cells


def _referred_on_release(episode: Episode, release: Movement, upto: date) -> bool:
    """Referred on release (``sonar.domain.continuity``), by a discharge dated up to ``upto``."""
    return (_day(episode.ended_at, upto) is not None
            and referred_on_release(episode, release.occurred_at))


# --- validation ------------------------------------------------------------------------------


def validation_report(rows: Iterable[Row]) -> list[dict[str, Cell]]:
    """Missing mandatory items, one line per item per episode, for the team to fix.

    Always mandatory: referral date and source, drug 1, injecting status and, in secure
    settings, the prison reception date. Then, as the episode progresses: triage date once
    accepted, care-plan start once in treatment more than 14 days, start TOP once more than
    28 days, discharge reason once discharged.
    """
    problems: list[dict[str, Cell]] = []
    for row in rows:
        days = row.get("days_in_treatment")
        in_treatment = days if isinstance(days, int) and not isinstance(days, bool) else 0
        checks: list[tuple[str, bool, str]] = [
            ("referral_date", True, "Record the referral date."),
            ("referral_source", True, "Record where the referral came from."),
            ("drug_1", True, "Record the primary substance on the referral."),
            ("injecting_status", True, "Record the injecting status on the referral."),
            ("triage_date", row.get("referral_outcome") == "accepted",
             "The episode was accepted but has no triage (acceptance) date."),
            ("care_plan_start_date", in_treatment > CARE_PLAN_DUE_AFTER_DAYS,
             f"In treatment {in_treatment} days with no care plan; agree one "
             f"(due within {CARE_PLAN_DUE_AFTER_DAYS} days)."),
            ("top_start_date", in_treatment > TOP_START_DUE_AFTER_DAYS,
             f"In treatment {in_treatment} days with no start TOP; record one "
             f"(due within {TOP_START_DUE_AFTER_DAYS} days)."),
            ("discharge_reason", row.get("discharge_date") is not None,
             "The episode is discharged without a reason."),
            ("prison_reception_date", True,
             "No prison reception is recorded before the referral; record the reception."),
        ]
        problems += [{"client_ref": row.get("client_ref"), "episode": row.get("episode"),
                      "site": row.get("site"), "field": name,
                      "rule": f"ndtms.missing.{name}", "detail": detail}
                     for name, required, detail in checks
                     if required and row.get(name) in (None, "")]
    return problems


# --- the whole extract -----------------------------------------------------------------------


@dataclass
class Extract:
    """The rows of a return and the problems to fix; problems carry the patient id so the
    team can open the record (the report stays with the team; the CSV rows do not)."""

    rows: list[Row] = field(default_factory=list)
    problems: list[dict[str, Cell]] = field(default_factory=list)


REGISTERED_TOPIC = get_topic(CareRecord.Registered)


def patient_ids(application: SonarApplication, page: int = 500) -> Iterator[UUID]:
    """Every care record's id, from the log's ``Registered`` events in log order.

    Filtering by topic happens in the store, so this reads one small row per patient
    rather than every event; it sees every record the log holds, with no read-model lag.
    """
    start = 1
    while True:
        batch = application.recorder.select_notifications(
            start=start, limit=page, topics=[REGISTERED_TOPIC])
        for notification in batch:
            originator = notification.originator_id  # a UUID, or its text on some stores
            yield originator if isinstance(originator, UUID) else UUID(originator)
        if len(batch) < page:
            return
        start = batch[-1].id + 1


def build_extract(application: SonarApplication, period: Period, site: str | None,
                  salt: bytes) -> Extract:
    """Rows and validation report for every record in the store (see the module notes)."""
    extract = Extract()
    for patient_id in patient_ids(application):
        record = application.get_record(patient_id)
        if not record.episodes:
            continue
        rows = ndtms_rows(record, period, site, salt=salt)
        extract.rows += rows
        extract.problems += [p | {"patient_id": str(patient_id)}
                             for p in validation_report(rows)]
    extract.rows.sort(key=_row_order)
    return extract


def _row_order(row: Row) -> tuple[str, str, int]:
    """Site, then client reference, then episode: stable across runs, not by registration."""
    episode = row["episode"]
    return (str(row["site"] or ""), str(row["client_ref"]),
            episode if isinstance(episode, int) else 0)


# --- CSV -------------------------------------------------------------------------------------


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Cell) -> str:
    """A cell as NDTMS-style text: empty when not recorded, Y/N, ISO dates, plain numbers.

    Free text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) gets a
    leading apostrophe: teams open these files in Excel before submitting them.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return str(value)


def write_csv(rows: Iterable[Mapping[str, Cell]], columns: Sequence[str], out: IO[str]) -> None:
    """Write rows with a fixed header (so an empty return still has its columns)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
