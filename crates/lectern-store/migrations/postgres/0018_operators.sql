-- Operators (docs/operators.md): accounts of the deployment's own site who
-- may see every instance in the operator console. Kept in the deployment's
-- database beside the instance registry; an instance's copy of this table
-- stays empty, since no command grants the role there. Being an operator
-- is not being a site administrator, of this site or of any instance.
-- Times are Unix milliseconds.

CREATE TABLE operators (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    granted_at BIGINT NOT NULL
);
