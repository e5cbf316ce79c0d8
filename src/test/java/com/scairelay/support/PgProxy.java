package com.scairelay.support;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.pgclient.PgConnectOptions;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback between a node and the test PostgreSQL, so a test can make PostgreSQL go
 * quiet ({@link #stall}: bytes stop flowing, connections stay open) or away ({@link #cut}: every
 * connection dropped and new ones refused) and come back, without touching the shared server.
 */
public final class PgProxy implements AutoCloseable {
  private final Vertx vertx;
  private final PgConnectOptions target;
  private final NetClient client;
  private final List<NetSocket[]> pairs = new CopyOnWriteArrayList<>();
  private final NetServer server;
  private volatile boolean stalled;
  private volatile boolean cut;

  public PgProxy(Vertx vertx, PgConnectOptions target) {
    this.vertx = vertx;
    this.target = target;
    this.client = vertx.createNetClient();
    this.server = vertx.createNetServer().connectHandler(this::accept).listen(0, "127.0.0.1").await();
  }

  /** The target's options, through the proxy. */
  public PgConnectOptions options() {
    return new PgConnectOptions(target).setHost("127.0.0.1").setPort(server.actualPort());
  }

  private void accept(NetSocket front) {
    if (cut) {
      front.close();
      return;
    }
    front.pause();
    client.connect(target.getPort(), target.getHost()).onSuccess(back -> {
      NetSocket[] pair = {front, back};
      pairs.add(pair);
      front.handler(data -> forward(back, data));
      back.handler(data -> forward(front, data));
      front.closeHandler(v -> back.close());
      back.closeHandler(v -> front.close());
      front.resume();
    }).onFailure(err -> front.close());
  }

  private void forward(NetSocket to, io.vertx.core.buffer.Buffer data) {
    if (stalled) {
      pending.add(new Object[] {to, data});
    } else {
      to.write(data);
    }
  }

  private final List<Object[]> pending = new CopyOnWriteArrayList<>();

  /** PostgreSQL goes quiet: nothing it is sent is answered, nothing is closed. */
  public void stall() {
    stalled = true;
  }

  /** PostgreSQL is back: what was held is delivered, in order. */
  public void resume() {
    stalled = false;
    for (Object[] held : pending) {
      ((NetSocket) held[0]).write((io.vertx.core.buffer.Buffer) held[1]);
    }
    pending.clear();
  }

  /** PostgreSQL is gone: every connection drops and new ones are refused until {@link #restore}. */
  public void cut() {
    cut = true;
    pending.clear();
    stalled = false;
    pairs.forEach(pair -> pair[0].close());
    pairs.clear();
  }

  public void restore() {
    cut = false;
  }

  @Override
  public void close() {
    server.close().await();
    client.close().await();
  }
}
