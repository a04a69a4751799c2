"""The admin command line, `dvr-admin` (or `python -m admin`): what staff or an integrator do without a
database shell (admin/cli.py lists the command groups)."""
