-- Codec server sessions that were signed out before they expired (codec_server/session.py): the cookie is a
-- signed value, so signing out must be remembered server-side for a copied cookie to stop working. A row is
-- kept until the session would have expired anyway.
create table codec_sessions_ended (
    session_id bytea primary key,
    expires_at timestamptz not null
);
