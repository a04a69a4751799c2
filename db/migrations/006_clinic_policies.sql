-- Each clinic's policy, one row per version: a PUT appends the next version; no row is ever changed or
-- removed, so the policy a pathway started with can always be read back.
create table clinic_policies (
    clinic_site text not null references clinics (site),
    version integer not null check (version >= 1),
    policy jsonb not null,
    created_at timestamptz not null default now(),
    created_by text not null,
    primary key (clinic_site, version)
);

create function clinic_policies_are_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'clinic_policies is append-only';
end;
$$;

create trigger clinic_policies_append_only before update or delete or truncate on clinic_policies
    for each statement execute function clinic_policies_are_append_only();
