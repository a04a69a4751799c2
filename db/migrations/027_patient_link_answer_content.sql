-- What a form's answers said (a hash of them, not the answers): the same form sent again with other answers
-- (the browser's back button, a change of mind) is told its first answer stands, instead of being confirmed
-- as recorded while the change is dropped. Null for answers claimed before this column: compared as equal.
alter table patient_link_answers add column content_hash text;
