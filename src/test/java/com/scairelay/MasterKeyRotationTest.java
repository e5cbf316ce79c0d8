package com.scairelay;

import com.scairelay.store.Ids;
import com.scairelay.store.MasterKeyRotation;
import com.scairelay.store.MasterKeys;
import com.scairelay.store.SecretBox;
import com.scairelay.support.TestNode;
import com.scairelay.support.TestPostgres;
import com.scairelay.support.TestSink;
import com.scairelay.transport.SignatureScheme;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The master-key rotation as README, "Rotating the master key", tells an operator to run it: nodes get
 * the new key with the old one as previous, the rotation runs (here stopped after its first batch, then
 * run again), and a node with only the new key reads every secret: inbound signatures verify,
 * deliveries and webhooks are signed as before, tokens issued before still verify.
 */
class MasterKeyRotationTest {
  static final String OLD = Base64.getEncoder().encodeToString(Ids.randomBytes(32));
  static final String NEW = Base64.getEncoder().encodeToString(Ids.randomBytes(32));
  /** Every sealed column, as {@code SELECT <table>, <id>, <column>} rows. */
  static final String SEALED_VALUES = """
      SELECT 'bridges', id, secret_enc FROM bridges UNION ALL SELECT 'bridges', id, previous_secret_enc FROM bridges
      UNION ALL SELECT 'bridges', id, credentials_enc FROM bridges UNION ALL SELECT 'webhooks', id, secret_enc FROM webhooks
      UNION ALL SELECT 'webhooks', id, previous_secret_enc FROM webhooks UNION ALL SELECT 'signing_keys', kid, jwk_enc FROM signing_keys""";

  static Vertx vertx;
  static TestSink sink;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    sink = TestSink.start(vertx);
  }

  @AfterAll
  static void stop() {
    sink.close();
    vertx.close().await();
  }

  static Map<String, String> keys(String current, String previous) {
    return Map.of("RELAY_SECRETS_MASTER_KEY", current, "RELAY_SECRETS_PREVIOUS_MASTER_KEYS", previous,
        "RELAY_DELIVERIES_SWEEP_INTERVAL_MS", "50", "RELAY_INBOUND_SECRET_GRACE_SECONDS", "86400");
  }

  /** What the operator's tenants created before the rotation, with the secrets they were given. */
  record Tenant(String roomId, Map<String, String> bridgeSecrets, String relayedBridge, String rotatedBridge, String previousBridgeSecret,
                Map<String, String> webhookSecrets, String token, JsonObject application) {
  }

  @Test
  void aRotationStoppedAfterItsFirstBatchResumesAndThenTheNewKeyAloneOpensEverySecret() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    Tenant tenant;
    try (TestNode before = TestNode.startOn(pg, keys(OLD, ""))) {
      tenant = createSecrets(before);
    }
    int values = sealedValues(pg).size();
    assertThat(values).as("bridges (3 + 1 previous + 1 credentials), webhooks (2 + 1 previous), a signing key").isEqualTo(9);
    assertThat(sealedWith(pg, OLD)).isEqualTo(values);

    try (TestNode during = TestNode.startOn(pg, keys(NEW, OLD))) {
      tenant.bridgeSecrets().forEach((bridge, secret) ->
          assertThat(inbound(during, bridge, secret, "step1-" + bridge).statusCode()).as("the old key, as previous, opens").isEqualTo(202));
      Pool pool = PgBuilder.pool().connectingTo(pg).using(vertx).build();
      List<String> progress = new CopyOnWriteArrayList<>();
      Future<MasterKeyRotation.Summary> stopped = MasterKeyRotation.run(pool, new SecretBox(new MasterKeys(key(NEW), List.of(key(OLD)))), 2,
          line -> {
            progress.add(line);
            pool.close(); // the process dies after its first batch committed
          });
      assertThatThrownBy(stopped::await).as("the run stops with its pool").isNotNull();
      assertThat(progress).hasSize(1);
      assertThat(progress.get(0)).startsWith("bridges: 2 of 3 rows, ").contains("values sealed again");
      int halfway = sealedWith(pg, NEW);
      assertThat(halfway).as("the first batch committed, the rest not").isBetween(2, values - 1);
      assertThat(sealedWith(pg, OLD)).isEqualTo(values - halfway);
      tenant.bridgeSecrets().forEach((bridge, secret) ->
          assertThat(inbound(during, bridge, secret, "during-" + bridge).statusCode()).as("half-rotated, the node reads both").isEqualTo(202));

      int exit = MasterKeyCommand.run(List.of("--batch-size=2"), Map.of("RELAY_PG_URL", url(pg), "RELAY_SECRETS_MASTER_KEY", NEW,
          "RELAY_SECRETS_PREVIOUS_MASTER_KEYS", OLD));
      assertThat(exit).isEqualTo(0);
      assertThat(sealedWith(pg, NEW)).isEqualTo(values);

      MasterKeyRotation.Summary again = MasterKeyRotation.run(PgBuilder.pool().connectingTo(pg).using(vertx).build(),
          new SecretBox(new MasterKeys(key(NEW), List.of(key(OLD)))), 2, line -> { }).await();
      assertThat(again.resealed()).as("a run after the end finds nothing to do").isZero();
      assertThat(again.alreadyCurrent()).isEqualTo(values);
    }

    try (TestNode after = TestNode.startOn(pg, keys(NEW, ""))) {
      assertEverySecretWorks(after, tenant);
    }
    SecretBox oldOnly = new SecretBox(key(OLD));
    for (Row row : sealedValues(pg)) {
      assertThatThrownBy(() -> oldOnly.open(row.getBuffer(2).getBytes())).as("the old key opens nothing now").hasMessageContaining("cannot be decrypted");
    }
  }

  @Test
  void valuesNoConfiguredKeyOpensAreLeftAsTheyAreAndTheCommandExitsWith2() {
    PgConnectOptions pg = TestPostgres.freshDatabase();
    try (TestNode before = TestNode.startOn(pg, keys(OLD, ""))) {
      before.createBridge(before.createRoom("r").getString("room_id"), "inbound");
    }
    String other = Base64.getEncoder().encodeToString(Ids.randomBytes(32));

    int exit = MasterKeyCommand.run(List.of(), Map.of("RELAY_PG_URL", url(pg), "RELAY_SECRETS_MASTER_KEY", NEW,
        "RELAY_SECRETS_PREVIOUS_MASTER_KEYS", other));

    assertThat(exit).isEqualTo(2);
    assertThat(sealedWith(pg, OLD)).isEqualTo(sealedValues(pg).size());
  }

  private Tenant createSecrets(TestNode node) {
    String room = node.createRoom("support").getString("room_id");
    JsonObject relayed = created(node, "/v1/admin/bridges", new JsonObject().put("transport", "custom").put("direction", "both")
        .put("room_id", room).put("name", "crm").put("outbound_webhook", sink.url("/out")));
    JsonObject inbound = node.createBridge(room, "inbound");
    JsonObject rotated = node.createBridge(room, "inbound");
    String rotatedSecret = created(node, "/v1/admin/bridges/" + rotated.getString("bridge_id") + "/rotate-secret", null).getString("shared_secret");
    // Platform credentials are sealed the same way (Slack, Discord bridges); a custom bridge reads them too.
    node.sql("UPDATE bridges SET credentials_enc = $1 WHERE id = $2",
        Buffer.buffer(new SecretBox(key(OLD)).seal(new JsonObject().put("bot_token", "xoxb-kept").encode())), inbound.getString("bridge_id"));

    JsonObject hook = created(node, "/v1/admin/webhooks", webhook("/wh-1"));
    JsonObject rotatedHook = created(node, "/v1/admin/webhooks", webhook("/wh-2"));
    String rotatedHookSecret = created(node, "/v1/admin/webhooks/" + rotatedHook.getString("webhook_id") + "/rotate-secret", null)
        .getString("secret");

    JsonObject app = created(node, "/v1/admin/applications", new JsonObject().put("name", "crm").put("scopes", new JsonArray().add("bridges:read"))
        .put("token_lifetime", 3600));
    return new Tenant(room, Map.of(relayed.getString("bridge_id"), relayed.getString("shared_secret"),
        inbound.getString("bridge_id"), inbound.getString("shared_secret"), rotated.getString("bridge_id"), rotatedSecret),
        relayed.getString("bridge_id"), rotated.getString("bridge_id"), rotated.getString("shared_secret"),
        Map.of("/wh-1", hook.getString("secret"), "/wh-2", rotatedHookSecret), token(node, app), app);
  }

  private void assertEverySecretWorks(TestNode node, Tenant tenant) {
    tenant.bridgeSecrets().forEach((bridge, secret) ->
        assertThat(inbound(node, bridge, secret, "after-" + bridge).statusCode()).as("inbound verifies on %s", bridge).isEqualTo(202));
    assertThat(inbound(node, tenant.rotatedBridge(), tenant.previousBridgeSecret(), "after-previous").statusCode())
        .as("the previous secret, in its grace period").isEqualTo(202);

    HttpResponse<Buffer> message = node.send(node.admin(HttpMethod.POST, "/v1/rooms/" + tenant.roomId() + "/events"), new JsonObject()
        .put("sender", "@agent:example.org").put("content", new JsonObject().put("msgtype", "swp.text").put("body", "after the rotation")));
    assertThat(message.statusCode()).as(message.bodyAsString()).isEqualTo(201);
    String eventId = message.bodyAsJsonObject().getString("event_id");
    await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received("/out").stream().anyMatch(r -> eventId.equals(r.eventId())));
    TestSink.Received out = sink.received("/out").stream().filter(r -> eventId.equals(r.eventId())).findFirst().orElseThrow();
    assertThat(SignatureScheme.verify(out.headers().get(SignatureScheme.HEADER), Buffer.buffer(out.body()),
        List.of(tenant.bridgeSecrets().get(tenant.relayedBridge())), Instant.now(), Duration.ofHours(1))).as("signed with the bridge's secret").isEmpty();

    String published = created(node, "/v1/events", new JsonObject().put("category", "FILE_ACCESS").put("action", "file.read")
        .put("user_id", "u1").put("resource_id", "r1")).getString("event_id");
    tenant.webhookSecrets().forEach((path, secret) -> {
      await().atMost(10, TimeUnit.SECONDS).until(() -> sink.received(path).stream().anyMatch(r -> published.equals(r.eventId())));
      TestSink.Received delivery = sink.received(path).stream().filter(r -> published.equals(r.eventId())).findFirst().orElseThrow();
      assertThat(delivery.headers().get("X-ScaiDrive-Signature")).as("webhook %s signed with its secret", path).isEqualTo(hmac(secret, delivery.body()));
    });

    HttpResponse<Buffer> withOldToken = node.send(node.request(HttpMethod.GET, "/v1/admin/bridges")
        .putHeader("Authorization", "Bearer " + tenant.token()), null);
    assertThat(withOldToken.statusCode()).as("a token signed before the rotation").isEqualTo(200);
    assertThat(token(node, tenant.application())).as("new tokens are issued").isNotBlank();
  }

  private static JsonObject webhook(String path) {
    return new JsonObject().put("name", path).put("url", sink.url(path)).put("events", new JsonArray().add("FILE_ACCESS"));
  }

  private static JsonObject created(TestNode node, String path, JsonObject body) {
    HttpResponse<Buffer> response = node.send(node.admin(HttpMethod.POST, path), body);
    assertThat(response.statusCode()).as(path + ": " + response.bodyAsString()).isIn(200, 201);
    return response.bodyAsJsonObject();
  }

  private static String token(TestNode node, JsonObject app) {
    String basic = Base64.getEncoder().encodeToString((app.getString("client_id") + ":" + app.getString("client_secret"))
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<Buffer> response = node.request(HttpMethod.POST, "/oauth/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .putHeader("Authorization", "Basic " + basic).sendBuffer(Buffer.buffer("grant_type=client_credentials")).await();
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject().getString("access_token");
  }

  private static HttpResponse<Buffer> inbound(TestNode node, String bridgeId, String secret, String eventId) {
    return node.postInbound(bridgeId, secret, TestNode.message(eventId, "U1", "hello")).await();
  }

  private static String hmac(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] key(String base64) {
    return Base64.getDecoder().decode(base64);
  }

  static String url(PgConnectOptions pg) {
    return "postgresql://" + pg.getUser() + ":" + pg.getPassword() + "@" + pg.getHost() + ":" + pg.getPort() + "/" + pg.getDatabase();
  }

  /** The non-null sealed values of the database: table, id, value. */
  static List<Row> sealedValues(PgConnectOptions pg) {
    Pool pool = PgBuilder.pool().connectingTo(pg).using(vertx).build();
    try {
      List<Row> rows = new ArrayList<>();
      pool.query("SELECT * FROM (" + SEALED_VALUES + ") v WHERE v.secret_enc IS NOT NULL").execute().await().forEach(rows::add);
      return rows;
    } finally {
      pool.close().await();
    }
  }

  /** How many sealed values carry the id of {@code key} (read from the stored bytes). */
  static int sealedWith(PgConnectOptions pg, String key) {
    String id = MasterKeys.idOf(key(key));
    return (int) sealedValues(pg).stream().map(row -> row.getBuffer(2).getBytes())
        .filter(bytes -> bytes[0] == 1 && HexFormat.of().formatHex(bytes, 1, 5).equals(id)).count();
  }
}
