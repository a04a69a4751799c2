"""Opaque, stable identifiers: a retried start must find the same workflow."""

import uuid

# Fixed namespace for pathway ids; changing it would orphan every running pathway.
PATHWAY_NAMESPACE = uuid.UUID("6f1c1d2e-9a53-4d0e-8a44-3b1f0e7d2c90")


def pathway_id_for(source_system: str, referral_id: str) -> str:
    """The workflow id of a referral's pathway: `pathway-<uuid5>`, carrying no PHI."""
    name = f"{len(source_system)}:{source_system}|{referral_id}"
    return f"pathway-{uuid.uuid5(PATHWAY_NAMESPACE, name)}"


def relief_check_id(pathway_id: str, block_number: int) -> str:
    """The workflow id of a pathway's relief check for its `block_number`th block."""
    return f"{pathway_id}-relief-{block_number}"


def outcome_check_ins_id(pathway_id: str) -> str:
    """The workflow id of a pathway's outcome check-ins."""
    return f"{pathway_id}-outcomes"
