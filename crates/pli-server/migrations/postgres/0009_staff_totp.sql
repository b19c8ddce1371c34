-- Staff members' second factor for the staff console (staff data, not users'): the TOTP
-- secret and the newest time step spent, so no code is accepted twice. Forgotten with the
-- member.
CREATE TABLE staff_totp (
    staff_id  BIGINT PRIMARY KEY REFERENCES staff(staff_id) ON DELETE CASCADE,
    secret    BYTEA NOT NULL,
    last_step BIGINT NOT NULL
);
