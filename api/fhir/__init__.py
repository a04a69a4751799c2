"""The read-only FHIR R4 view of pathways (issue 10): resources built from the pathway view, never from PHI.

Each module builds one kind of resource as plain JSON; tests validate them with the fhir.resources models.
"""
