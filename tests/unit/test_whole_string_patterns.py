"""Every `^...` pattern matched with `re.match` is anchored with `\\Z`, not `$`: `$` also matches before a
final newline, so "site\\n" or "reason\\n" would pass as a plain identifier or a line of text."""

import re

import pytest

from admin.dashboard import _SITE as DASHBOARD_SITE
from admin.keys import _NAME as KEY_NAME
from admin.patients import _PATHWAY_ID as ADMIN_PATHWAY_ID
from admin.patients import _REASON as ADMIN_REASON
from api.link_answers import _SMALL_NUMBER
from config.settings import _E164
from db.clinic_sites import SITE_PATTERN
from domain.calendar_values import _HH_MM
from workflows.pathway_counts import CLINIC_SITE

PATHWAY = "pathway-00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        (DASHBOARD_SITE, "phoenix-main"),
        (KEY_NAME, "ehr-feed"),
        (ADMIN_PATHWAY_ID, PATHWAY),
        (ADMIN_REASON, "patient asked"),
        (_SMALL_NUMBER, "7"),
        (_E164, "+16025550100"),
        (SITE_PATTERN, "phoenix-main"),
        (_HH_MM, "08:30"),
        (CLINIC_SITE, "phoenix-main"),
    ],
)
def test_a_final_newline_does_not_pass(pattern: re.Pattern[str], valid: str) -> None:
    assert pattern.match(valid) is not None
    assert pattern.match(valid + "\n") is None
