-- The account's encrypted profile (display name and avatar), which only the people it
-- shared its profile key with can open: the server stores the ciphertext and nothing of it.
ALTER TABLE accounts ADD COLUMN profile BYTEA;
