"""Search results as a FHIR `searchset` Bundle."""

from typing import Any


def searchset(base_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """`base_url` is the FHIR base (`https://host/fhir`), for each entry's absolute `fullUrl`."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
