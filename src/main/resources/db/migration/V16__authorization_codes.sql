-- Authorization codes of the OAuth authorization-code flow (PKCE, S256). Any node redeems a code any
-- node issued; only the SHA-256 of a code is stored. A code is redeemed once (used_at) and lives
-- auth.authorization_code_seconds; the retention purge removes expired rows.
CREATE TABLE authorization_codes (
  code_hash       bytea PRIMARY KEY,
  client_id       text NOT NULL,
  redirect_uri    text NOT NULL,
  code_challenge  text NOT NULL,
  subject         text NOT NULL,
  scopes          text[] NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);

CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);
