-- Intake and deadlines, citizen satisfaction (issue 13, items 6 and 7).
-- received_at: when the officer opened the case or the one-stop software handed it over;
-- due_at: its deadline under Decree 23/2015 art. 21 over the working-day calendar (package
-- deadline), stored as computed at the time so that a later change of the holiday table does
-- not move past deadlines. A certification is returned when it is certified (certified_at of
-- an issued or revoked entry), a refusal when it is recorded (created_at). Entries from before
-- this migration have neither and are left out of the on-time counts.
ALTER TABLE certifications ADD COLUMN received_at TEXT;
ALTER TABLE certifications ADD COLUMN due_at TEXT;
CREATE TRIGGER certifications_intake_fixed BEFORE UPDATE OF received_at, due_at ON certifications
WHEN NEW.received_at IS NOT OLD.received_at OR NEW.due_at IS NOT OLD.due_at
BEGIN
    SELECT RAISE(ABORT, 'permanent record: this change to a register entry is not allowed');
END;
-- Covering indexes for the statistics (the rows are wide: reading them costs 20× an index).
CREATE INDEX certifications_unit_received ON certifications (unit_id, received_at, status, certified_at, due_at) WHERE received_at IS NOT NULL;
CREATE INDEX certifications_unit_certified ON certifications (unit_id, certified_at, status, copies, pages, fee_vnd);

ALTER TABLE refusals ADD COLUMN received_at TEXT;
ALTER TABLE refusals ADD COLUMN due_at TEXT;

-- One rating per certification, given by the holder of its link and access code. Never
-- shown per entry; the statistics count them. Written with its audit entry
-- (satisfaction.rate). Append-only.
CREATE TABLE satisfaction_ratings (
    id               INTEGER PRIMARY KEY,
    certification_id INTEGER NOT NULL UNIQUE REFERENCES certifications (id),
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    rating           TEXT NOT NULL CHECK (rating IN ('satisfied', 'neutral', 'not_satisfied')),
    comment          TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX satisfaction_ratings_unit ON satisfaction_ratings (unit_id, created_at, rating);
CREATE TRIGGER satisfaction_ratings_no_update BEFORE UPDATE ON satisfaction_ratings
BEGIN
    SELECT RAISE(ABORT, 'permanent record: ratings are append-only');
END;
CREATE TRIGGER satisfaction_ratings_no_delete BEFORE DELETE ON satisfaction_ratings
BEGIN
    SELECT RAISE(ABORT, 'permanent record: ratings are append-only');
END;
