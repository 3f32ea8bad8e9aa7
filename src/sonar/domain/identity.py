"""Who the patient is: NHS number, prison number, PNC id and demographics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sonar.domain import plausible
from sonar.domain.errors import InvalidValue
from sonar.domain.values import Immutable

_PRISON_NUMBER = re.compile(r"^[A-Z][0-9]{4}[A-Z]{2}$")
# PNC ids are written YY/NNNNNNNL or YYYY/NNNNNNNL: year, serial, check letter.
_PNC_ID = re.compile(r"^([0-9]{2}|[0-9]{4})/[0-9]{1,7}[A-Z]$")


def nhs_check_digit(first_nine: str) -> int | None:
    """Modulus 11 check digit for the first nine digits; None when no valid number exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


@dataclass(frozen=True)
class NhsNumber(Immutable):
    """A 10-digit NHS number whose last digit is its Modulus 11 check digit."""

    value: str

    def __post_init__(self) -> None:
        digits = self.value.replace(" ", "")
        if not (len(digits) == 10 and digits.isascii() and digits.isdigit()):
            raise InvalidValue(
                "An NHS number has exactly 10 digits.", rule="nhs_number.format", field="nhs_number"
            )
        if nhs_check_digit(digits[:9]) != int(digits[9]):
            raise InvalidValue(
                "The NHS number's check digit is wrong (Modulus 11); re-check the number.",
                rule="nhs_number.check_digit",
                field="nhs_number",
            )
        object.__setattr__(self, "value", digits)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PrisonNumber(Immutable):
    """A NOMIS prison number, e.g. A1234BC."""

    value: str

    def __post_init__(self) -> None:
        normalised = self.value.strip().upper()
        if not _PRISON_NUMBER.match(normalised):
            raise InvalidValue(
                "A prison number is a letter, four digits and two letters, e.g. A1234BC.",
                rule="prison_number.format",
                field="prison_number",
            )
        object.__setattr__(self, "value", normalised)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PncId(Immutable):
    """A Police National Computer id, e.g. 2019/0123456X."""

    value: str

    def __post_init__(self) -> None:
        normalised = self.value.strip().upper()
        if not _PNC_ID.match(normalised):
            raise InvalidValue(
                "A PNC id is a year, a slash, up to 7 digits and a check letter.",
                rule="pnc_id.format",
                field="pnc_id",
            )
        object.__setattr__(self, "value", normalised)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Demographics(Immutable):
    """Name, date of birth and sex as recorded at registration."""

    given_name: str
    family_name: str
    date_of_birth: date
    sex: str  # a code from codes.SEX

    def __post_init__(self) -> None:
        for field in ("given_name", "family_name"):
            text = getattr(self, field).strip()
            if not 1 <= len(text) <= 100 or not text.isprintable():
                raise InvalidValue("A name must have 1 to 100 printable characters.",
                                   rule="name.length", field=field)
            object.__setattr__(self, field, text)
        plausible.check_day(self.date_of_birth, "date_of_birth")


@dataclass(frozen=True)
class Identity(Immutable):
    """The identifiers a person is known by; any may be missing at first."""

    nhs_number: NhsNumber | None = None
    prison_number: PrisonNumber | None = None
    pnc_id: PncId | None = None
