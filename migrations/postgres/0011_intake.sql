-- Intake and deadlines, citizen satisfaction (issue 13, items 6 and 7).
-- received_at: when the officer opened the case or the one-stop software handed it over;
-- due_at: its deadline under Decree 23/2015 art. 21 over the working-day calendar (package
-- deadline), stored as computed at the time so that a later change of the holiday table does
-- not move past deadlines. A certification is returned when it is certified (certified_at of
-- an issued or revoked entry), a refusal when it is recorded (created_at). Entries from before
-- this migration have neither and are left out of the on-time counts.
ALTER TABLE certifications ADD COLUMN received_at timestamptz;
ALTER TABLE certifications ADD COLUMN due_at timestamptz;
CREATE FUNCTION certifications_intake_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.received_at IS DISTINCT FROM OLD.received_at OR NEW.due_at IS DISTINCT FROM OLD.due_at THEN
        RAISE EXCEPTION 'permanent record: this change to a register entry is not allowed' USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER certifications_intake_fixed BEFORE UPDATE ON certifications
    FOR EACH ROW EXECUTE FUNCTION certifications_intake_fixed();
-- Covering indexes for the statistics (the rows are wide: reading them costs 20× an index).
CREATE INDEX certifications_unit_received ON certifications (unit_id, received_at) INCLUDE (status, certified_at, due_at) WHERE received_at IS NOT NULL;
CREATE INDEX certifications_unit_certified ON certifications (unit_id, certified_at) INCLUDE (status, copies, pages, fee_vnd);

ALTER TABLE refusals ADD COLUMN received_at timestamptz;
ALTER TABLE refusals ADD COLUMN due_at timestamptz;

-- One rating per certification, given by the holder of its link and access code. Never
-- shown per entry; the statistics count them. Written with its audit entry
-- (satisfaction.rate). Append-only.
CREATE TABLE satisfaction_ratings (
    id               bigserial PRIMARY KEY,
    certification_id bigint NOT NULL UNIQUE REFERENCES certifications (id),
    unit_id          bigint NOT NULL REFERENCES units (id),
    rating           text NOT NULL CHECK (rating IN ('satisfied', 'neutral', 'not_satisfied')),
    comment          text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 1000),
    created_at       timestamptz NOT NULL
);
CREATE INDEX satisfaction_ratings_unit ON satisfaction_ratings (unit_id, created_at) INCLUDE (rating);
CREATE TRIGGER satisfaction_ratings_permanent BEFORE UPDATE OR DELETE ON satisfaction_ratings
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER satisfaction_ratings_no_truncate BEFORE TRUNCATE ON satisfaction_ratings
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
