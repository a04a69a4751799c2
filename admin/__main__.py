"""`python -m admin ...`: the same command line as the `dvr-admin` console script."""

from admin.cli import main

main()
