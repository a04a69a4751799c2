"""Site-limited API keys: a key limited to clinic sites sees and changes only those sites' pathways, patients
and policies.

Every key-authenticated route takes `Sites` (or `PathwayHandle`, which takes it), or is listed in
`SITE_INDEPENDENT_ROUTES` with the reason; tests/unit/test_site_limited_routes.py holds every route to that.
What a limited key may not reach answers as if it did not exist (404, as an unknown id does), so a key learns
nothing about other sites; a referral it may not start is 403 `clinic-site-not-allowed`, since the site it
named is its own request's. Keys without a limit (the bootstrap key) cost no extra query.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from api.auth import authenticated_client
from db.api_clients import ApiClient
from db.clinic_sites import SITE_PATTERN, pathway_site, patient_site
from db.pool import Queryable
from workflows import search_attributes as sa

# "METHOD /path" of key-authenticated routes that concern no one site, each with the reason.
SITE_INDEPENDENT_ROUTES: dict[str, str] = {}


@dataclass(frozen=True)
class SiteAccess:
    """The clinic sites a request's API key reaches; `sites` None: every site."""

    sites: frozenset[str] | None

    def allows(self, site: str | None) -> bool:
        return self.sites is None or (site is not None and site in self.sites)

    async def reaches_pathway(self, conn: Queryable, pathway_id: str) -> bool:
        """Whether the pathway (if it exists) is at one of the key's sites; an unknown one is not."""
        return self.sites is None or self.allows(await pathway_site(conn, pathway_id))

    async def reaches_patient(self, conn: Queryable, patient_ref: str) -> bool:
        return self.sites is None or self.allows(await patient_site(conn, patient_ref))

    def visibility_clause(self) -> str | None:
        """The clause that keeps a pathway list to the key's sites (None: no limit). A site that is not a
        plain identifier is refused (ValueError, a 500) rather than put into the query."""
        if self.sites is None:
            return None
        for site in self.sites:
            if not SITE_PATTERN.match(site):
                raise ValueError("an API client's clinic site is not a plain identifier")
        listed = ", ".join(f"'{site}'" for site in sorted(self.sites))
        return f"{sa.CLINIC_SITE.name} IN ({listed})"


async def site_access(client: Annotated[ApiClient, Depends(authenticated_client)]) -> SiteAccess:
    return SiteAccess(client.clinic_sites)


Sites = Annotated[SiteAccess, Depends(site_access)]
