"""ReSet release support on the care record: the release plan made in custody, the released
person's appointment diary, and where they want appointment reminders
(``sonar.domain.reset`` holds the values and the missed-appointment grace)."""

from __future__ import annotations

from datetime import timedelta

from sonar.domain import plausible
from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import (
    RecordArea,
    RecordEvent,
    check_planned_day,
    printable_text,
)
from sonar.domain.contacts import DELIVERED_BY, ReminderContact, check_address
from sonar.domain.errors import IllegalStep, InvalidValue
from sonar.domain.reset import (
    ATTENDANCE_CONFIRMED_BY,
    MISSED_GRACE,
    Appointment,
    DiaryEntry,
    ReleasePlan,
)


class AppointmentOutcome(RecordEvent):
    """Base of what became of an appointment."""

    appointment_id: str

    def status(self) -> tuple[str, str | None, str | None]:
        raise NotImplementedError

    def apply(self, aggregate: RecordArea) -> None:
        entry = aggregate.diary[self.appointment_id]
        entry.status, entry.confirmed_by, entry.reason = self.status()


class ReleaseSupport(RecordArea):
    """Plan release while in custody; keep the diary once released."""

    class ReleasePlanned(RecordEvent):
        plan: ReleasePlan

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.release_plans = (*aggregate.release_plans, self.plan)

    class AppointmentBooked(RecordEvent):
        appointment: Appointment

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.diary[self.appointment.appointment_id] = DiaryEntry(self.appointment)

    class AppointmentAttended(AppointmentOutcome):
        confirmed_by: str

        def status(self) -> tuple[str, str | None, str | None]:
            return "attended", self.confirmed_by, None

    class AppointmentCancelled(AppointmentOutcome):
        reason: str

        def status(self) -> tuple[str, str | None, str | None]:
            return "cancelled", None, self.reason

    class AppointmentMissed(AppointmentOutcome):
        """Recorded by the scheduler; names everyone to be told, as they stood then."""

        agencies: tuple[str, ...]
        family_members: tuple[str, ...]

        def status(self) -> tuple[str, str | None, str | None]:
            return "missed", None, None

    class ReminderContactRecorded(RecordEvent):
        """Where the person wants appointment reminders; None: no reminders."""

        contact: ReminderContact | None

        def apply(self, aggregate: RecordArea) -> None:
            aggregate.reminder_contact = self.contact

    def record_reminder_contact(self, channel: str | None, address: str | None,
                                attribution: Attribution) -> None:
        """Ask for reminders by text message or email (no channel: stop reminders)."""
        contact = None
        if channel is not None:
            if channel not in DELIVERED_BY:
                raise InvalidValue("Reminders go by text message or email.",
                                   rule="reminder_contact.channel", field="channel")
            checked = check_address(channel, address, field="address")
            assert checked is not None  # noqa: S101 - required for these channels
            contact = ReminderContact(channel, checked)
        self._record(self.ReminderContactRecorded, attribution, contact=contact)

    def plan_release(self, plan: ReleasePlan, attribution: Attribution) -> None:
        """Plan release while in custody (a new plan revises, never overwrites)."""
        if self.journey.setting != "prison":
            raise IllegalStep("Release is planned while the person is in prison.",
                              rule="release_plan.requires_prison")
        check_planned_day(plan.expected_release_date, "expected_release_date", attribution,
                          rule="release_plan.date_in_past",
                          message="The expected release date has passed.")
        self._record(self.ReleasePlanned, attribution, plan=plan)

    def book_appointment(self, appointment: Appointment, attribution: Attribution) -> None:
        if appointment.appointment_id in self.diary:
            raise IllegalStep("This appointment is already in the diary.",
                              rule="appointment.already_booked")
        plausible.check_moment(appointment.starts_at, "starts_at",
                               latest=plausible.ahead_of(attribution.recorded_at))
        self._record(self.AppointmentBooked, attribution, appointment=appointment)

    def _open_appointment(self, appointment_id: str) -> DiaryEntry:
        entry = self.diary.get(appointment_id)
        if entry is None:
            raise IllegalStep(f"There is no appointment {appointment_id} in the diary.",
                              rule="appointment.not_found")
        if entry.status != "booked":
            raise IllegalStep(f"Appointment {appointment_id} is already {entry.status}.",
                              rule=f"appointment.already_{entry.status}")
        return entry

    def record_attendance(self, appointment_id: str, confirmed_by: str,
                          attribution: Attribution) -> None:
        entry = self._open_appointment(appointment_id)
        ATTENDANCE_CONFIRMED_BY.check(confirmed_by, field="confirmed_by")
        if attribution.occurred_at < entry.appointment.starts_at - MISSED_GRACE:
            raise IllegalStep("Attendance cannot be recorded before the appointment.",
                              rule="appointment.attended_too_early")
        self._record(self.AppointmentAttended, attribution, appointment_id=appointment_id,
                     confirmed_by=confirmed_by)

    def cancel_appointment(self, appointment_id: str, reason: str,
                           attribution: Attribution) -> None:
        self._open_appointment(appointment_id)
        self._record(self.AppointmentCancelled, attribution, appointment_id=appointment_id,
                     reason=printable_text(reason, "reason", 500))

    def record_missed_appointment(self, appointment_id: str, attribution: Attribution,
                                  grace: timedelta = MISSED_GRACE) -> None:
        """Missed: past its end plus the grace period with no attendance recorded."""
        entry = self._open_appointment(appointment_id)
        if attribution.recorded_at < entry.appointment.ends_at + grace:
            raise IllegalStep("The appointment is not yet past its end and grace period.",
                              rule="appointment.not_yet_missed")
        agencies = sorted({e.appointment.agency for e in self.diary.values()})
        self._record(self.AppointmentMissed, attribution, appointment_id=appointment_id,
                     agencies=tuple(agencies),
                     family_members=tuple(sorted(self.family_notification_consents)))
