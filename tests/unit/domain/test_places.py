"""The reference list of places: every place string SONAR uses resolves, and nothing is guessed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonar.cli.demo import PRISONS
from sonar.domain import places
from sonar.domain.places import REGIONS, Place, PlaceKind, by_code, find, is_known, of_kind
from tests.strategies import places as any_place
from tests.strategies import respellings

EVERY_PLACE = [place for kind in PlaceKind for place in of_kind(kind)]

# Every place string in the demo and the tests (grep establishment=, site=, custody_suite=,
# destination_area=, release_area=): what it must resolve to.
USED_IN_THE_REPO = {
    "HMP Leeds": "LEI", "HMP Hull": "HLI", "HMP Wakefield": "WDI", "HMP Doncaster": "DNI",
    "HMP Lindholme": "LHI", "HMP Moorland": "MDI", "HMP Hatfield": "HDI",
    "HMP Full Sutton": "FNI", "HMP Humber": "HMI", "HMP Askham Grange": "AGI",
    "HMP New Hall": "NHI", "HMP Wealstun": "WEI", "HMP Leeds Annex": "ZLA",
    "Leeds District Custody Suite": "WYP-LEE", "Leeds Custody": "WYP-LEE",
    "Leeds Custody Suite": "WYP-LEE", "Elland Road Custody": "WYP-LEE",
    "Leeds": "E08000035", "Bradford": "E08000032",
    "Leeds Recovery Hub": "SVC-ZRH",
}


@pytest.mark.parametrize(("text", "code"), USED_IN_THE_REPO.items())
def test_every_place_the_demo_and_tests_use_resolves(text: str, code: str) -> None:
    place = find(text)
    assert place is not None
    assert place.code == code


def test_every_demo_prison_is_a_prison_in_yorkshire_and_the_humber() -> None:
    for name in PRISONS:
        place = find(name)
        assert place is not None, name
        assert (place.kind, place.region) == (PlaceKind.PRISON, "Yorkshire and The Humber")


@pytest.mark.parametrize("text", [
    " hmp   LEEDS ", "Leeds (HMP)", "HMP Leeds", "HM Prison Leeds", "hmp leeds.", "LEI", "lei",
    "His Majesty's Prison Leeds", "His Majesty\u2019s Prison Leeds", "\tHMP\u00a0Leeds\n",
])
def test_spellings_of_hmp_leeds_find_hmp_leeds(text: str) -> None:
    assert find(text) == by_code("LEI")


@pytest.mark.parametrize("text", [
    "HMP & YOI Hull", "HMP and YOI Hull", "HMP/YOI Hull", "Hull (HMP & YOI)", "HMPYOI Hull",
    "HMP Hull", "hull (hmp)",
])
def test_every_prison_designation_finds_the_prison(text: str) -> None:
    assert find(text) == by_code("HLI")


def test_a_designation_tells_the_prison_from_the_area_of_the_same_name() -> None:
    assert find("HMP Hull") == by_code("HLI")
    assert find("Hull") == by_code("E06000010")
    assert find("HMP Leeds") == by_code("LEI")
    assert find("Leeds") == by_code("E08000035")
    assert find("HMP Wakefield") != find("Wakefield") != find("Wakefield Custody Suite")


@pytest.mark.parametrize(("text", "code"), [
    ("Kingston upon Hull, City of", "E06000010"), ("St Helens", "E08000013"),
    ("St. Helens", "E08000013"), ("Telford & Wrekin", "E06000020"), ("e08000035", "E08000035"),
    ("Stockton on Tees", "E06000004"), ("wyp-lee", "WYP-LEE"), ("HMYOI Wetherby", "WYI"),
    ("HMP Wetherby", "WYI"), ("HMP Peterborough (Female)", "PFI"),
    ("HMP Peterborough Male", "PBI"),
])
def test_case_spacing_punctuation_and_ampersands_do_not_matter(text: str, code: str) -> None:
    assert find(text) == by_code(code)


@pytest.mark.parametrize("text", [
    "HMP Nowhere", "", "   ", "HMP", "HMP & YOI", "Leeds Prison", "HMP Leeds Anex", "HMP Leed",
    "Leeds Annex", "Leeds\x00", "HMP\u200bLeeds", "Harrogate", "HMP LEI",
    "HMP Peterborough", "HMP Feltham",  # two establishments each: the caller must say which
])
def test_unknown_or_ambiguous_text_names_no_place(text: str) -> None:
    assert find(text) is None
    assert not is_known(text)


def test_is_known_can_require_a_kind() -> None:
    assert is_known("HMP Leeds", PlaceKind.PRISON)
    assert not is_known("HMP Leeds", PlaceKind.COMMUNITY_AREA)
    assert is_known("Leeds", PlaceKind.COMMUNITY_AREA)
    assert is_known("Leeds Custody", PlaceKind.POLICE_CUSTODY_SUITE)


def test_by_code_takes_the_code_exactly_as_nomis_and_ons_write_it() -> None:
    assert by_code("LEI") == find("HMP Leeds")
    assert by_code("E08000035") == find("Leeds")
    assert by_code("lei") is None
    assert by_code("HMP Leeds") is None


def test_codes_are_unique_and_names_unique_within_a_kind() -> None:
    assert len({place.code for place in EVERY_PLACE}) == len(EVERY_PLACE)
    for kind in PlaceKind:
        names = [place.name.casefold() for place in of_kind(kind)]
        assert len(set(names)) == len(names), kind


def test_every_place_is_found_by_its_name_code_and_aliases() -> None:
    for place in EVERY_PLACE:
        for text in (place.name, place.code, *place.aliases):
            assert find(text) == place, text


@given(any_place)
def test_a_place_is_found_by_its_name_and_its_code(place: Place) -> None:
    assert find(place.name) == place
    assert find(place.code) == place


@given(st.data())
def test_case_and_whitespace_variants_of_a_name_find_the_same_place(data: st.DataObject) -> None:
    place = data.draw(any_place)
    assert find(data.draw(respellings(place.name))) == place


def test_yorkshire_and_the_humber_is_listed_in_full() -> None:
    areas = {p.name for p in of_kind(PlaceKind.COMMUNITY_AREA)
             if p.region == "Yorkshire and The Humber"}
    assert areas == {
        "Barnsley", "Bradford", "Calderdale", "Doncaster", "East Riding of Yorkshire",
        "Kingston upon Hull", "Kirklees", "Leeds", "North East Lincolnshire",
        "North Lincolnshire", "North Yorkshire", "Rotherham", "Sheffield", "Wakefield", "York",
    }


def test_community_areas_are_englands_upper_tier_authorities_by_gss_code() -> None:
    areas = of_kind(PlaceKind.COMMUNITY_AREA)
    assert len(areas) == 153
    assert {area.code[:3] for area in areas} == {"E06", "E08", "E09", "E10"}


def test_prisons_carry_their_nomis_ids() -> None:
    expected = {"LEI": "HMP Leeds", "HLI": "HMP Hull", "MDI": "HMP Moorland",
                "HDI": "HMP Hatfield", "WEI": "HMP Wealstun", "WNI": "HMYOI Werrington",
                "WYI": "HMYOI Wetherby", "MKI": "HMP Millsike"}
    assert {code: getattr(by_code(code), "name", None) for code in expected} == expected


def test_only_invented_places_are_synthetic_and_their_codes_say_so() -> None:
    synthetic = {place.code for place in EVERY_PLACE if place.synthetic}
    assert synthetic == {"ZLA", "SVC-ZRH"}
    for place in EVERY_PLACE:
        assert place.code.split("-")[-1].startswith("Z") == place.synthetic


def test_every_region_is_an_ons_region_or_wales() -> None:
    assert {place.region for place in EVERY_PLACE} == REGIONS


@pytest.mark.parametrize(("change", "problem"), [
    ({"region": "Narnia"}, "unknown region"),
    ({"code": "LEEDS"}, "not a prison code"),
    ({"code": "ZLE"}, "synthetic"),
    ({"source": "synthetic"}, "synthetic"),
    ({"source": "wikipedia"}, "unknown source"),
    ({"kind": "castle"}, "unknown kind"),
])
def test_a_row_breaking_the_data_rules_is_refused_naming_the_rule(
        change: dict[str, str], problem: str) -> None:
    row = {"code": "LEI", "kind": "prison", "name": "HMP Leeds",
           "region": "Yorkshire and The Humber", "aliases": "", "source": "hmpps-prison-register"}
    with pytest.raises(ValueError, match=problem):
        places._place(row | change)
