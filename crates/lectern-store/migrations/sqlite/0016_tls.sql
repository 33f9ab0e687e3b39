-- TLS by ACME (docs/tls.md): certificates with their private keys, the
-- ACME account per directory and the pending HTTP-01 answers, kept in the
-- database so every node serves the same certificate and answers the CA.
-- Times are Unix milliseconds.

CREATE TABLE tls_certificates (
    -- The subject's name (today its first host).
    name TEXT PRIMARY KEY,
    -- The host names it covers, separated by spaces.
    hosts TEXT NOT NULL,
    -- The current certificate chain and its key (PEM); empty until the
    -- first order succeeds. A failed renewal leaves them in place.
    cert_pem TEXT,
    key_pem TEXT,
    not_after BIGINT,
    -- The leaf's serial number, hexadecimal.
    serial TEXT,
    issued_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE acme_accounts (
    -- The ACME directory URL the account is registered with.
    directory TEXT PRIMARY KEY,
    -- instant-acme's account credentials (JSON, with the account key).
    credentials TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE acme_challenges (
    token TEXT PRIMARY KEY,
    key_authorization TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
