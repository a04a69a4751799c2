"""Pure, deterministic pathway code: models, configuration and clinical rules (no I/O, no clocks)."""
