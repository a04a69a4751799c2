-- A resource left out of a loaded calendar file (admin/calendar.py) stays, since its bookings and claims
-- refer to it, but takes no new bookings.
alter table resources add column active boolean not null default true;

-- When a clinic, or one of its resources, takes no bookings: holidays (a whole local day, the whole clinic)
-- and blocked time (a range, for the whole clinic or one resource). Booking treats each as taken; bookings
-- made before a closure was added are left for staff to move.
create table calendar_closures (
    closure_id bigserial primary key,
    clinic_site text not null references clinics (site),
    resource_id text references resources (resource_id),
    kind text not null check (kind in ('holiday', 'blocked')),
    starts_at timestamptz not null,
    ends_at timestamptz not null,
    reason text not null,
    check (starts_at < ends_at)
);
create index calendar_closures_clinic_range on calendar_closures (clinic_site, starts_at, ends_at);
