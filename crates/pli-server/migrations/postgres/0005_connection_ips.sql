-- Connection IP addresses, only for accounts whose region's policy keeps them (none by
-- default), by day, until that policy's period ends.
CREATE TABLE connection_ips (
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    day      BIGINT NOT NULL,
    PRIMARY KEY (username, day, ip)
);
