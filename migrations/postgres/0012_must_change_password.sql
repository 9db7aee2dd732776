-- Account lifecycle (issue #12): an account whose password was generated (demo logins, `account
-- add`, `account passwd`, an administrator's reset) must change it at its next login; until
-- then its browser session can only change the password or log out. API tokens are not
-- affected (they belong to officers, not to passwords).
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;
