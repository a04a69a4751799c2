"""Temporal workflow definitions: the patient pathway and its relief check."""

TASK_QUEUE = "dvr-pathway"
