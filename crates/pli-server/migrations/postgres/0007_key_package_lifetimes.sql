-- The end of each key package's lifetime (seconds since the Unix epoch, as in the package):
-- an expired package is never handed out, and one about to expire is replaced by its
-- device. Packages stored before have none: valid, but replaced at their device's next
-- top-up.
ALTER TABLE key_packages ADD COLUMN not_after BIGINT;
