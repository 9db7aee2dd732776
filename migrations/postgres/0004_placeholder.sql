-- Placeholder for migration 0004, which the branch `integrity` writes (PostgreSQL roles and
-- immutability triggers). Versions must run without gaps; delete this file when that
-- branch's 0004 is merged.
SELECT 1;
