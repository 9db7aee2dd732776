-- Placeholder: version 0006 belongs to another branch of issue #13; versions run without
-- gaps, so this keeps 0007 (onestop) applicable on its own. The lead removes it on merge.
SELECT 1;
