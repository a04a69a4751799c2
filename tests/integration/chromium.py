"""The Chromium the browser tests drive: the system's (Debian's `chromium`, a `chromium-browser`, a Google
Chrome), else the one `playwright install chromium` put in the venv's cache. `make test` installs one when
neither is there (see the Makefile's `chromium` target); a test never skips for want of a browser."""

import os
import shutil
from pathlib import Path

import pytest

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# As root, in a sandboxed machine with no network: no sandbox of Chromium's own (it refuses to start as root
# with one), and none of its background connections (refused here, and slow to fail).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def look_in_the_venv() -> None:
    """Playwright's own Chromium is looked for where `make test` installs it: inside the venv's playwright
    package (PLAYWRIGHT_BROWSERS_PATH=0), unless the environment says elsewhere. Call it before Playwright
    starts."""
    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", "0")


def chromium_executable(bundled: str) -> str:
    """The system Chromium's path, else `bundled` (Playwright's own) if it is installed."""
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if bundled and Path(bundled).exists():
        return bundled
    pytest.fail(
        "No Chromium found: `make test` installs one (apt-get install chromium as root, else playwright"
        " install chromium), or install Debian's `chromium` package."
    )
