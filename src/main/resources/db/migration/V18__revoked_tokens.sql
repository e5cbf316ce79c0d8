-- Tokens revoked one by one: the token issued for an authorization code that was presented again
-- (RFC 6749 §4.1.2: a code used twice revokes what it gave). A used code keeps the id (jti) and expiry of
-- the token it was redeemed for, and stays until that token expires, so a late replay still revokes it.
ALTER TABLE authorization_codes ADD COLUMN token_jti text, ADD COLUMN token_expires_at timestamptz;

CREATE TABLE revoked_tokens (
  jti         text PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);

CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
