package com.scairelay.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The HTTP ceiling: a bare Vert.x server, one verticle per core like the node, that does what the
 * node's inbound path does short of storing: read the body, verify the HMAC signature, parse the JSON,
 * answer 202. {@code java -cp scairelay-bench.jar com.scairelay.bench.NoopServer <port> <secret>}.
 */
public final class NoopServer extends VerticleBase {
  private final int port;
  private final String secret;

  NoopServer(int port, String secret) {
    this.port = port;
    this.secret = secret;
  }

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    String secret = args[1];
    Vertx vertx = Vertx.vertx();
    int instances = Runtime.getRuntime().availableProcessors();
    vertx.deployVerticle(() -> new NoopServer(port, secret), new DeploymentOptions().setInstances(instances)).await();
    System.out.println("noop server listening on " + port);
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
      String header = request.getHeader("X-ScaiWave-Bridge-Signature");
      boolean valid = false;
      if (header != null && header.startsWith("t=")) {
        int comma = header.indexOf(",v1=");
        long ts = Long.parseLong(header.substring(2, comma));
        byte[] expected = Signer.hmac(secret, ts, body.getBytes());
        valid = MessageDigest.isEqual(expected, HexFormat.of().parseHex(header.substring(comma + 4)));
      }
      if (!valid) {
        request.response().setStatusCode(401).end();
        return;
      }
      JsonObject json = body.toJsonObject();
      request.response().setStatusCode(202).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("event_id", json.getString("event_id")).put("duplicate", false).encode());
    })).listen(port, "127.0.0.1");
  }
}
