-- OAuth 2 applications (client credentials, token exchange), personal API keys, and the keys that
-- sign access tokens. Application secrets and API keys are stored hashed; signing keys encrypted.
CREATE TABLE applications (
  client_id                   text PRIMARY KEY,
  name                        text NOT NULL,
  description                 text NOT NULL DEFAULT '',
  redirect_uris               text[] NOT NULL DEFAULT '{}',
  scopes                      text[] NOT NULL,
  token_lifetime              integer NOT NULL,
  secret_hash                 bytea NOT NULL,
  previous_secret_hash        bytea,
  previous_secret_expires_at  timestamptz,
  created_at                  timestamptz NOT NULL,
  updated_at                  timestamptz NOT NULL,
  deleted_at                  timestamptz
);

CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  scopes      text[] NOT NULL,
  key_hash    bytea NOT NULL UNIQUE,
  created_by  text,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);

CREATE TABLE signing_keys (
  kid           text PRIMARY KEY,
  jwk_enc       bytea NOT NULL,
  created_at    timestamptz NOT NULL,
  retire_after  timestamptz
);
