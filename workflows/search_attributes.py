"""The custom search attributes operations staff filter on (DESIGN.md §4). None carries PHI."""

from temporalio.common import SearchAttributeKey

PATHWAY_STAGE = SearchAttributeKey.for_keyword("PathwayStage")
PATHWAY_OUTCOME = SearchAttributeKey.for_keyword("PathwayOutcome")
CLINIC_SITE = SearchAttributeKey.for_keyword("ClinicSite")
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")
NEXT_ACTION_DUE = SearchAttributeKey.for_datetime("NextActionDue")
BLOCK_RESULT = SearchAttributeKey.for_keyword("BlockResult")
PATIENT_REF = SearchAttributeKey.for_keyword("PatientRef")

ALL = (
    PATHWAY_STAGE,
    PATHWAY_OUTCOME,
    CLINIC_SITE,
    NEEDS_ATTENTION,
    NEXT_ACTION_DUE,
    BLOCK_RESULT,
    PATIENT_REF,
)
