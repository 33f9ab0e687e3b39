-- Instances (docs/instances.md): the registry of the sites one deployment
-- serves, kept in the deployment's own database so every node routes the
-- same way. Each instance's data lives in its own database. Times are Unix
-- milliseconds.

CREATE TABLE instances (
    -- Lower-case letters, digits and hyphens; names a folder and a label.
    name TEXT PRIMARY KEY,
    -- Its own database; empty for a SQLite file in its own data folder.
    database_url TEXT NOT NULL,
    -- Its settings over the deployment's configuration (a TOML table).
    settings TEXT NOT NULL,
    -- 1 while switched off: its hosts answer nothing, its data stays.
    disabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Which instance answers a host name; the key makes a host answer one
-- instance at most, however many commands register at once.
CREATE TABLE instance_hosts (
    host TEXT PRIMARY KEY,
    instance_name TEXT NOT NULL,
    -- The host's place in the instance's list (the first is its main one).
    position BIGINT NOT NULL
);

CREATE INDEX instance_hosts_instance ON instance_hosts (instance_name);
