"""Reconciliation: one node per real organization, merged only on certain evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from graph.imports.model import Entity, ListFileError
from graph.imports.reconcile import (
    Decision,
    Index,
    Reconciler,
    append_decision,
    doubtful_pairs,
    name_keys,
    normalize,
    parse_decision,
    read_decisions,
    slug,
)
from graph.namespaces import RES


def _index() -> Index:
    index = Index()
    index.add(RES.taliban, ["Taliban"], "Q42418")
    index.add(RES["isis-k"], ["Islamic State – Khorasan Province", "ISIS-K", "ISKP"])
    index.add(RES["org-hamas"], ["HAMAS", "Islamic Resistance Movement"])
    index.add_entry(RES["org-hamas"], "us-fto", "4698")
    return index


def test_normalize_ignores_case_accents_apostrophes_punctuation_and_a_leading_the() -> None:
    assert normalize("The Red Hand Defenders.") == "red hand defenders"
    assert normalize("Jama’at Nusrat al-Islam") == normalize("JAMAAT NUSRAT AL ISLAM")
    assert normalize("Hizballah") != normalize("Hezbollah")  # spellings are not merged by rule


def test_name_keys_add_the_name_without_its_parenthesised_acronym_but_never_the_acronym() -> None:
    keys = name_keys("TEHRIK-E TALIBAN PAKISTAN (TTP)")
    assert "tehrik e taliban pakistan" in keys
    assert "ttp" not in keys


def test_an_exact_name_merges_with_the_seed_entity() -> None:
    match = Reconciler(_index()).match("us-sdgt", "6636", Entity("TALIBAN"))
    assert (match.iri, match.minted, match.how) == (RES.taliban, False, "name")


def test_an_alias_merges_too() -> None:
    match = Reconciler(_index()).match("ca-criminal-code", "9", Entity("ISIL-K", ("ISIS-K",)))
    assert match.iri == RES["isis-k"]


def test_a_conflicting_wikidata_id_prevents_a_merge_on_name() -> None:
    match = Reconciler(_index()).match("x", "1", Entity("Taliban", wikidata="Q1"))
    assert match.minted and match.iri != RES.taliban


def test_a_matching_wikidata_id_merges_whatever_the_name() -> None:
    match = Reconciler(_index()).match("x", "1", Entity("Islamic Emirate movement", (), "Q42418"))
    assert (match.iri, match.how) == (RES.taliban, "wikidata")


def test_another_entry_of_the_same_list_is_another_organization() -> None:
    # OFAC lists two entries named HAMAS: they are not merged with each other by name.
    match = Reconciler(_index()).match("us-fto", "9999", Entity("HAMAS"))
    assert match.minted


def test_ambiguous_names_mint_a_new_organization() -> None:
    index = _index()
    index.add(RES["org-other"], ["Islamic Resistance Movement"])
    match = Reconciler(index).match("ca-criminal-code", "7", Entity("Islamic Resistance Movement"))
    assert match.minted and match.how == "new"


def test_decisions_override_names_and_previous_imports() -> None:
    same = Decision("x", "1", "same", str(RES.taliban), "curator", "2026-12-01")
    different = Decision("y", "2", "different", str(RES.taliban), "curator", "2026-12-01")
    reconciler = Reconciler(_index(), [same, different], {("y", "2"): RES.taliban})
    assert reconciler.match("x", "1", Entity("Something else")).iri == RES.taliban
    assert reconciler.match("y", "2", Entity("Taliban")).minted


def test_entries_of_one_group_share_their_organization() -> None:
    reconciler = Reconciler(_index())
    fto = reconciler.match("us-fto", "15484", Entity("HAQQANI NETWORK"), group="15484")
    sdgt = reconciler.match("us-sdgt", "15484", Entity("HAQQANI NETWORK"), group="15484")
    assert fto.iri == sdgt.iri == RES["org-haqqani-network"]


def test_minted_iris_never_collide() -> None:
    index = _index()
    index.taken.add(RES["org-haqqani-network"])
    match = Reconciler(index).match("us-fto", "15484", Entity("HAQQANI NETWORK"))
    assert match.iri == RES["org-haqqani-network-us-fto-15484"]


def test_doubtful_pairs_report_equal_and_similar_names_until_decided() -> None:
    index = _index()
    index.add(RES["org-hamas-2"], ["Hamas"])
    index.add_entry(RES["org-hamas-2"], "uk-schedule-2", "hamas")
    index.add(RES["org-pflp"], ["Popular Front for the Liberation of Palestine"])
    index.add(RES["org-flp"], ["Front for the Liberation of Palestine"])
    reasons = {(p.left.iri, p.right.iri): p.reason for p in doubtful_pairs(index)}
    assert reasons[(RES["org-hamas"], RES["org-hamas-2"])].startswith("same name")
    assert reasons[(RES["org-flp"], RES["org-pflp"])].startswith("similar names")
    decided = Decision("uk-schedule-2", "hamas", "different", str(RES["org-hamas"]), "c", "d")
    pairs = {(p.left.iri, p.right.iri) for p in doubtful_pairs(index, [decided])}
    assert (RES["org-hamas"], RES["org-hamas-2"]) not in pairs


def test_decisions_round_trip_through_their_file(tmp_path: Path) -> None:
    path = tmp_path / "reconciliation.tsv"
    decision = parse_decision("us-fto:4698=same:org-hamas", "curator", "same charter", "2026-12-01")
    append_decision(path, decision)
    append_decision(path, parse_decision("x:1=different:https://example.org/o", "c", when="d"))
    read = read_decisions(path)
    assert read[0] == decision and read[0].organization == str(RES["org-hamas"])
    assert read[1].decision == "different"


@pytest.mark.parametrize("text", ["us-fto:4698", "us-fto=same:x", "a:1=maybe:x", ":1=same:x"])
def test_malformed_decisions_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="LIST:ENTRY_ID"):
        parse_decision(text, "c")


def test_a_decisions_file_with_a_wrong_header_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "reconciliation.tsv"
    path.write_text("a\tb\n")
    with pytest.raises(ListFileError, match="line 1"):
        read_decisions(path)


def test_slugs_are_iri_safe() -> None:
    assert slug("Hizb ut-Tahrir (الحزب)") == "hizb-ut-tahrir"
    assert slug("") == "x"
    assert URIRef(RES[f"org-{slug('Jama’at al-Ahrar')}"]).endswith("org-jamaat-al-ahrar")
