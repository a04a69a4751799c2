"""Pathway ids: opaque, stable, and carrying no PHI."""

import re
import uuid

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.identifiers import PATHWAY_NAMESPACE, pathway_id_for

# The referral's identifier alphabet (domain.referral.Identifier). Every generated value holds one character
# that can never appear in "pathway-<uuid>" (uppercase, '.', ':', '_' or a letter beyond 'f' other than
# those of "pathway"), so "contains neither input" is a real check rather than a coincidence of hex digits.
IDENTIFIER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
NEVER_IN_ID = set(IDENTIFIER_CHARS) - set("0123456789abcdef-pathwy")
identifier_st = st.text(alphabet=IDENTIFIER_CHARS, min_size=1, max_size=40).filter(
    lambda s: any(c in NEVER_IN_ID for c in s)
)
any_text_st = st.text(max_size=40)
ID_PATTERN = re.compile(r"^pathway-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_known_value_is_stable() -> None:
    # Changing the namespace or the name format would orphan every running pathway.
    assert uuid.UUID("6f1c1d2e-9a53-4d0e-8a44-3b1f0e7d2c90") == PATHWAY_NAMESPACE
    expected = f"pathway-{uuid.uuid5(PATHWAY_NAMESPACE, '8:test-ehr|REF-1001')}"
    assert pathway_id_for("test-ehr", "REF-1001") == expected


def test_example_is_opaque() -> None:
    pathway_id = pathway_id_for("epic-prod", "REF-1001")
    assert ID_PATTERN.match(pathway_id)
    assert "epic" not in pathway_id
    assert "REF" not in pathway_id
    assert "1001" not in pathway_id


@given(source=any_text_st, referral=any_text_st)
def test_stable_and_well_formed(source: str, referral: str) -> None:
    pathway_id = pathway_id_for(source, referral)
    assert pathway_id == pathway_id_for(source, referral)
    assert pathway_id.startswith("pathway-")
    assert ID_PATTERN.match(pathway_id)


@given(source=identifier_st, referral=identifier_st)
def test_contains_neither_input(source: str, referral: str) -> None:
    pathway_id = pathway_id_for(source, referral)
    assert source not in pathway_id
    assert referral not in pathway_id


@given(source=any_text_st, other_source=any_text_st, referral=any_text_st)
def test_differs_for_different_source_systems(source: str, other_source: str, referral: str) -> None:
    assume(source != other_source)
    assert pathway_id_for(source, referral) != pathway_id_for(other_source, referral)


@given(source=any_text_st, referral=any_text_st, other_referral=any_text_st)
def test_differs_for_different_referral_ids(source: str, referral: str, other_referral: str) -> None:
    assume(referral != other_referral)
    assert pathway_id_for(source, referral) != pathway_id_for(source, other_referral)


@given(a=any_text_st, b=any_text_st, c=any_text_st, d=any_text_st)
def test_distinct_pairs_give_distinct_ids(a: str, b: str, c: str, d: str) -> None:
    assume((a, b) != (c, d))
    assert pathway_id_for(a, b) != pathway_id_for(c, d)


def test_separator_in_inputs_does_not_collide() -> None:
    # Without the length prefix, ("a|b", "c") and ("a", "b|c") would name the same pathway.
    assert pathway_id_for("a|b", "c") != pathway_id_for("a", "b|c")
    assert pathway_id_for("1:a", "b") != pathway_id_for("1", "a|b")
    assert pathway_id_for("", "x") != pathway_id_for("x", "")
