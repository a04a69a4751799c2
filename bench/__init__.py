"""Benchmarks (README, "Performance"): each one a command, `python -m bench.<name>`, that measures the
orchestrator side by side with raw Temporal on the same machine in the same run and prints a table."""
