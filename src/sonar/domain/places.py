"""The one reference list of places (prisons, custody suites, areas) every layer matches against.

Places matched as free text ("HMP Leeds" vs " hmp   LEEDS ") let users forge relationships
and split national reports; here a place is known only by its row in ``places.csv`` (sources,
licences and code schemes in ``places.md``). Matching is exact after one normalisation, never
fuzzy: case, spacing, punctuation, apostrophes, "&"/"and", and a prison's designation ("HMP",
"HM Prison", "HMP & YOI", "HMYOI", "(HMP)" …) before or after its name. The designation is
part of the match: "HMP Hull" is the prison, "Hull" the local authority area.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import TypeAlias


class PlaceKind(StrEnum):
    """What a place is; a kind is added with its data, never before (courts are not yet)."""

    PRISON = "prison"
    """An active establishment of the HMPPS prison register (England and Wales)."""
    POLICE_CUSTODY_SUITE = "police_custody_suite"
    COMMUNITY_AREA = "community_area"
    """An upper-tier local authority: where a person is released to, lives, is counted (NDTMS)."""
    COMMUNITY_SERVICE = "community_service"
    """A community treatment or recovery site a worker acts for."""


@dataclass(frozen=True)
class Place:
    """One row of places.csv; the code is what a record stores, the name what people read."""

    code: str
    """NOMIS prison id, ONS GSS code, or a SONAR-local code (see places.md)."""
    name: str
    kind: PlaceKind
    region: str
    """ONS region of England the place is in, or "Wales"."""
    aliases: tuple[str, ...] = ()
    synthetic: bool = False
    """Invented for demos and tests; never a real place, never in a national return."""


REGIONS = frozenset({
    "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
    "East of England", "London", "South East", "South West", "Wales",
})
_SOURCES = frozenset({
    "hmpps-prison-register", "hmicfrs-west-yorkshire-custody", "ons-upper-tier-la-2023",
    "synthetic",
})
_CODE_FORMATS: Mapping[PlaceKind, re.Pattern[str]] = {
    PlaceKind.PRISON: re.compile(r"[A-Z]{3}"),
    PlaceKind.POLICE_CUSTODY_SUITE: re.compile(r"[A-Z]{3}-[A-Z]{3}"),
    PlaceKind.COMMUNITY_AREA: re.compile(r"E(0[6-9]|10)\d{6}"),
    PlaceKind.COMMUNITY_SERVICE: re.compile(r"SVC-[A-Z]{3}"),
}

_DESIGNATION = (r"(?:hmp|hmyoi|hmpyoi|yoi|hm prison|hm yoi|young offender institution"
                r"|h(?:is|er) majestys (?:prison|young offender institution))")
_DESIGNATIONS = rf"{_DESIGNATION}(?: (?:and )?{_DESIGNATION})*"
_PREFIX = re.compile(rf"^{_DESIGNATIONS} ")
_SUFFIX = re.compile(rf" {_DESIGNATIONS}$")

_Key: TypeAlias = tuple[bool, str]
"""(carries a prison designation, the words of the name)."""


def _words(text: str) -> str:
    """Lower-case words of the text; "" if it holds control or invisible characters."""
    text = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c).startswith("C") and not c.isspace() for c in text):
        return ""
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"['`\u2018\u2019]", "", text)  # "King's" and "Kings" are one word
    return " ".join(re.findall(r"[^\W_]+", text))


def _key(text: str) -> _Key:
    words = _words(text)
    core = _SUFFIX.sub("", _PREFIX.sub("", words))
    return (core != words, core)


def find(text: str) -> Place | None:
    """The place this text names (by name, alias or code), or None: no guessing."""
    return _index().get(_key(text))


def by_code(code: str) -> Place | None:
    """The place with exactly this code (as NOMIS or ONS write it), or None."""
    return _by_code().get(code)


def of_kind(kind: PlaceKind) -> tuple[Place, ...]:
    """Every place of one kind, by name."""
    return tuple(sorted((p for p in _places() if p.kind == kind), key=lambda p: p.name.casefold()))


def is_known(text: str, kind: PlaceKind | None = None) -> bool:
    """Whether the text names a place (of this kind, if one is given)."""
    place = find(text)
    return place is not None and (kind is None or place.kind == kind)


@cache
def _places() -> tuple[Place, ...]:
    lines = files("sonar.domain").joinpath("places.csv").read_text(encoding="utf-8").splitlines()
    return tuple(_place(row) for row in csv.DictReader(x for x in lines if not x.startswith("#")))


def _place(row: dict[str, str]) -> Place:
    code, region, source = row["code"], row["region"], row["source"]
    try:
        kind = PlaceKind(row["kind"])
    except ValueError:
        raise ValueError(f"places.csv {code!r}: unknown kind {row['kind']!r}") from None
    problems = []
    if not _CODE_FORMATS[kind].fullmatch(code):
        problems.append(f"the code is not a {kind} code")
    if region not in REGIONS:
        problems.append(f"unknown region {region!r}")
    if source not in _SOURCES:
        problems.append(f"unknown source {source!r}")
    # A synthetic place shows it in its code: the code's last part starts with Z (ZLA, SVC-ZRH).
    if code.split("-")[-1].startswith("Z") != (source == "synthetic"):
        problems.append("a code's last part starts with Z if and only if the place is synthetic")
    if problems:
        raise ValueError(f"places.csv {code!r}: " + "; ".join(problems))
    aliases = tuple(alias for alias in row["aliases"].split("|") if alias)
    return Place(code, row["name"], kind, region, aliases, synthetic=source == "synthetic")


def _keys(place: Place) -> Iterator[tuple[str, _Key]]:
    yield place.code, (False, _words(place.code))
    for text in (place.name, *place.aliases):
        key = _key(text)
        if key[0] != (place.kind is PlaceKind.PRISON) or not key[1]:
            raise ValueError(f"places.csv {place.code}: {text!r} must name a prison "
                             "with its designation (HMP …), and only a prison")
        yield text, key


@cache
def _index() -> Mapping[_Key, Place]:
    index: dict[_Key, Place] = {}
    for place in _places():
        for text, key in _keys(place):
            other = index.setdefault(key, place)
            if other != place:
                raise ValueError(f"places.csv: {text!r} of {place.code} reads as {other.code}")
    return index


@cache
def _by_code() -> Mapping[str, Place]:
    return {place.code: place for place in _places()}


def same_place(a: str | None, b: str) -> bool:
    """Two names of a place are the same place (case and spacing aside)."""
    return a is not None and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
