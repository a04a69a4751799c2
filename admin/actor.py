"""Who an admin command acts as in the audit log: `cli:<operating-system user>`."""

import os
import pwd


def cli_actor() -> str:
    """The effective user's name from the system's user database, not from $USER (which anyone can set);
    a container's user without an entry is named by its uid."""
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = f"uid-{uid}"
    return f"cli:{user}"
