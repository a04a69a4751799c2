"""The base of every model that crosses a process boundary: strict where it comes in, tolerant in history.

A request body refuses unknown fields (the API answers 422). A payload read back from Temporal history must
decode even when it was written by a newer or older build that had one more field: the data converter
decodes with the `FROM_HISTORY` context, and unknown fields are then dropped instead of refused. A workflow
replaying weeks-old history never fails on a field that was added since.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

FROM_HISTORY = "from_history"


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _tolerate_unknown_fields_from_history(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and isinstance(info.context, dict) and info.context.get(FROM_HISTORY):
            return {name: value for name, value in data.items() if name in cls.model_fields}
        return data
