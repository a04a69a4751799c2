"""Spinal levels reconcile along the pathway: a block treats levels the MRI or the exam found, and the DVR
treats levels a positive block confirmed. A clinician may go beyond them, with a stated override reason.

Kept by the pathway as its steps are taken; read by the validators of the block and procedure Updates.
"""

from dataclasses import dataclass, field

from domain.results import BlockRecord, MriReview, ProcedureRecord


@dataclass
class LevelsOnRecord:
    found: set[str] = field(default_factory=set)
    """Levels the MRI review or the exam named."""
    blocked_positive: set[str] = field(default_factory=set)
    """Levels of blocks whose relief check was positive."""

    def refusal_of_review(self, review: MriReview) -> str | None:
        if review.facet_swelling and not review.levels:
            return "levels are required when facet swelling is found"
        return None

    def refusal_of_block(self, block: BlockRecord) -> str | None:
        outside = sorted(set(block.levels) - self.found)
        if outside and block.override_reason is None:
            return (
                f"levels {', '.join(outside)} were found on neither the MRI nor the exam;"
                " give override_reason to block them"
            )
        return None

    def refusal_of_procedure(self, procedure: ProcedureRecord) -> str | None:
        if procedure.status != "completed":
            return None
        unconfirmed = sorted(set(procedure.levels_treated) - self.blocked_positive)
        if unconfirmed and procedure.override_reason is None:
            return (
                f"levels {', '.join(unconfirmed)} were not confirmed by a positive block;"
                " give override_reason to treat them"
            )
        return None
