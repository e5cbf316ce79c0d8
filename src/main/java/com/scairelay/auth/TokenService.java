package com.scairelay.auth;

import com.scairelay.store.Ids;
import com.scairelay.store.SecretBox;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static com.scairelay.store.Times.utc;

/**
 * Issues and verifies access tokens: ES256 JWTs any node verifies without a database call. Signing
 * keys live in PostgreSQL (private parts encrypted with the master key); the newest signs, and a key
 * replaced by {@link #rotate()} keeps verifying until every token it signed has expired. A rotation
 * is announced on {@link #KEYS_CHANGED} so every node of a cluster loads the new key at once; a node
 * that missed it loads the keys again when a token names a key it does not know (at most once a second).
 */
public final class TokenService {
  public static final String ISSUER = "scairelay";
  private static final String LIVE_KEYS = "SELECT kid, jwk_enc FROM signing_keys WHERE retire_after IS NULL OR retire_after > $1 ORDER BY created_at";
  private static final String INSERT_KEY = "INSERT INTO signing_keys (kid, jwk_enc, created_at) VALUES ($1, $2, $3)";
  private static final String RETIRE_KEYS = "UPDATE signing_keys SET retire_after = $1 WHERE retire_after IS NULL";

  private record Keys(String kid, JWTAuth signer, JWTAuth verifier, JsonArray publicJwks) {
  }

  private final Vertx vertx;
  private final Pool pool;
  private final SecretBox secrets;
  private final Clock clock;
  private final Duration maxLifetime;
  private volatile Keys keys;
  private volatile long lastLoadNanos = System.nanoTime() - RELOAD_INTERVAL_NANOS;

  /** Published on the cluster's event bus after a rotation. */
  public static final String KEYS_CHANGED = "relay.signing-keys.changed";
  private static final long RELOAD_INTERVAL_NANOS = 1_000_000_000L;

  public TokenService(Vertx vertx, Pool pool, SecretBox secrets, Clock clock, Duration maxLifetime) {
    this.vertx = vertx;
    this.pool = pool;
    this.secrets = secrets;
    this.clock = clock;
    this.maxLifetime = maxLifetime;
    vertx.eventBus().consumer(KEYS_CHANGED, message -> load());
  }

  /** Loads the live keys, creating the first one on a new database. */
  public Future<Void> load() {
    lastLoadNanos = System.nanoTime();
    return pool.preparedQuery(LIVE_KEYS).execute(Tuple.of(utc(clock.instant()))).compose(rows -> {
      if (rows.size() == 0) {
        return insertKey().compose(v -> load());
      }
      List<JsonObject> jwks = new ArrayList<>();
      for (Row row : rows) {
        jwks.add(new JsonObject(secrets.open(row.getBuffer("jwk_enc").getBytes())));
      }
      install(jwks);
      return Future.succeededFuture();
    });
  }

  /** A new key signs from now on; the others verify for the longest token lifetime more, then retire. */
  public Future<String> rotate() {
    return pool.preparedQuery(RETIRE_KEYS).execute(Tuple.of(utc(clock.instant().plus(maxLifetime))))
        .compose(v -> insertKey())
        .compose(v -> load())
        .onSuccess(v -> vertx.eventBus().publish(KEYS_CHANGED, keys.kid()))
        .map(v -> keys.kid());
  }

  /**
   * A signed token with {@code claims}, {@code iss}, {@code jti} (a new one unless {@code claims} has it) and
   * an {@code exp} {@code lifetime} from now (the node's clock).
   */
  public String issue(JsonObject claims, Duration lifetime) {
    if (keys == null) {
      throw new IllegalStateException("the signing keys are not loaded yet: PostgreSQL has not answered since start-up");
    }
    Instant now = clock.instant();
    JsonObject all = claims.copy().put("iss", ISSUER).put("jti", claims.getString("jti", Ids.newId("tok")))
        .put("exp", now.plus(lifetime).getEpochSecond());
    Keys current = keys;
    return current.signer().generateToken(all, new JWTOptions().setAlgorithm("ES256").setNoTimestamp(true)
        .setHeader(new JsonObject().put("kid", current.kid())));
  }

  /** The claims of a valid token this node's keys signed; fails for anything else (expired, tampered, foreign). */
  public Future<JsonObject> verify(String token) {
    if (keys == null) {
      return Future.failedFuture(new IllegalStateException("the signing keys are not loaded yet"));
    }
    if (!knows(kidOf(token)) && System.nanoTime() - lastLoadNanos > RELOAD_INTERVAL_NANOS) {
      return load().otherwiseEmpty().compose(v -> check(token));
    }
    return check(token);
  }

  private Future<JsonObject> check(String token) {
    return keys.verifier().authenticate(new TokenCredentials(token)).map(user -> {
      JsonObject claims = user.principal();
      if (!ISSUER.equals(claims.getString("iss"))) {
        throw new IllegalArgumentException("not issued by this relay");
      }
      return claims;
    });
  }

  private boolean knows(String kid) {
    if (kid == null) {
      return true; // not ours to look up: the verifier refuses it
    }
    for (Object jwk : keys.publicJwks()) {
      if (kid.equals(((JsonObject) jwk).getString("kid"))) {
        return true;
      }
    }
    return false;
  }

  /** The {@code kid} of a JWT's header, or null when it has none or is no JWT. */
  private static String kidOf(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return null;
    }
    try {
      return new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(token.substring(0, dot)),
          java.nio.charset.StandardCharsets.UTF_8)).getString("kid");
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The public keys that verify tokens, as a JWK set. */
  public JsonObject jwks() {
    return new JsonObject().put("keys", keys == null ? new JsonArray() : keys.publicJwks().copy());
  }

  public boolean loaded() {
    return keys != null;
  }

  private void install(List<JsonObject> jwks) {
    JWTAuthOptions verifying = new JWTAuthOptions();
    JsonArray published = new JsonArray();
    for (JsonObject jwk : jwks) {
      JsonObject pub = jwk.copy();
      pub.remove("d");
      verifying.addJwk(pub);
      published.add(pub);
    }
    JsonObject newest = jwks.get(jwks.size() - 1);
    JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addJwk(newest));
    keys = new Keys(newest.getString("kid"), signer, JWTAuth.create(vertx, verifying), published);
  }

  private Future<Void> insertKey() {
    JsonObject jwk = newKey();
    return pool.preparedQuery(INSERT_KEY)
        .execute(Tuple.of(jwk.getString("kid"), Buffer.buffer(secrets.seal(jwk.encode())), utc(clock.instant())))
        .mapEmpty();
  }

  /** A new P-256 key pair as a private JWK. */
  static JsonObject newKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      ECPublicKey pub = (ECPublicKey) pair.getPublic();
      ECPrivateKey priv = (ECPrivateKey) pair.getPrivate();
      return new JsonObject().put("kty", "EC").put("crv", "P-256").put("alg", "ES256").put("use", "sig")
          .put("kid", Ids.newId("key"))
          .put("x", b64(pub.getW().getAffineX())).put("y", b64(pub.getW().getAffineY())).put("d", b64(priv.getS()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 keys are not available", e);
    }
  }

  private static String b64(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] fixed = new byte[32];
    int copy = Math.min(32, raw.length);
    System.arraycopy(raw, raw.length - copy, fixed, 32 - copy, copy);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(fixed);
  }
}
