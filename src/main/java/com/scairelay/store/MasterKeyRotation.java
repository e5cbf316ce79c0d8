package com.scairelay.store;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Seals every value sealed with the master key again with the current key, in place: table by table, in
 * batches of rows taken in id order, each batch one transaction that locks its rows ({@code FOR
 * UPDATE}, so a secret rotated meanwhile is read after that change commits). A value already sealed
 * with the current key is left as it is, so a run that stopped half-way is simply run again. A value no
 * key opens is left as it is and reported; the run goes on.
 */
public final class MasterKeyRotation {
  /** A table with sealed columns, keyed by {@code id}. */
  record Sealed(String table, String id, List<String> columns) {
    String count() {
      return "SELECT count(*) FROM " + table;
    }

    String batch() {
      return "SELECT " + id + ", " + String.join(", ", columns) + " FROM " + table + " WHERE " + id + " > $1 ORDER BY " + id
          + " LIMIT $2 FOR UPDATE";
    }

    String update() {
      return "UPDATE " + table + " SET " + IntStream.range(0, columns.size()).mapToObj(i -> columns.get(i) + " = $" + (i + 2))
          .collect(Collectors.joining(", ")) + " WHERE " + id + " = $1";
    }
  }

  /** Every column sealed with the master key; {@code MasterKeyRotationTest} checks the schema has no other {@code *_enc} column. */
  static final List<Sealed> SEALED = List.of(
      new Sealed("bridges", "id", List.of("secret_enc", "previous_secret_enc", "credentials_enc")),
      new Sealed("webhooks", "id", List.of("secret_enc", "previous_secret_enc")),
      new Sealed("signing_keys", "kid", List.of("jwk_enc")));

  /**
   * What a run did: values sealed again with the current key, values it found sealed with it already,
   * and the values no configured key opens ({@code table.column of id}).
   */
  public record Summary(long rows, long resealed, long alreadyCurrent, List<String> unopenable) {
  }

  private final Pool pool;
  private final SecretBox box;
  private final int batchSize;
  private final Consumer<String> progress;
  private long rows;
  private long resealed;
  private long alreadyCurrent;
  private final List<String> unopenable = new ArrayList<>();

  private MasterKeyRotation(Pool pool, SecretBox box, int batchSize, Consumer<String> progress) {
    this.pool = pool;
    this.box = box;
    this.batchSize = batchSize;
    this.progress = progress;
  }

  /** Runs the rotation to {@code box}'s current key; {@code progress} hears one line per batch, once it committed. */
  public static Future<Summary> run(Pool pool, SecretBox box, int batchSize, Consumer<String> progress) {
    MasterKeyRotation rotation = new MasterKeyRotation(pool, box, batchSize, progress);
    Future<Void> done = Future.succeededFuture();
    for (Sealed table : SEALED) {
      done = done.compose(v -> rotation.table(table));
    }
    return done.map(v -> new Summary(rotation.rows, rotation.resealed, rotation.alreadyCurrent, List.copyOf(rotation.unopenable)));
  }

  private Future<Void> table(Sealed table) {
    return pool.query(table.count()).execute().compose(count -> batches(table, "", 0, count.iterator().next().getLong(0)));
  }

  /** What one batch found and changed. */
  private static final class Batch {
    final List<Tuple> changed = new ArrayList<>();
    final List<String> unopenable = new ArrayList<>();
    int rows;
    String last;
    long resealed;
    long alreadyCurrent;
  }

  private Future<Void> batches(Sealed table, String after, long done, long total) {
    return pool.withTransaction(conn -> conn.preparedQuery(table.batch()).execute(Tuple.of(after, batchSize)).compose(found -> {
      Batch batch = new Batch();
      batch.last = after;
      for (Row row : found) {
        reseal(table, row, batch);
      }
      return batch.changed.isEmpty() ? Future.succeededFuture(batch) : conn.preparedQuery(table.update()).executeBatch(batch.changed).map(batch);
    })).compose(batch -> {
      rows += batch.rows;
      resealed += batch.resealed;
      alreadyCurrent += batch.alreadyCurrent;
      unopenable.addAll(batch.unopenable);
      long now = done + batch.rows;
      if (batch.rows == 0 && done > 0) {
        return Future.<Void>succeededFuture(); // the previous batch was the last, and full
      }
      progress.accept(table.table() + ": " + now + " of " + total + " rows, " + batch.resealed + " values sealed again, "
          + batch.alreadyCurrent + " were already" + (batch.unopenable.isEmpty() ? "" : ", " + batch.unopenable.size() + " cannot be opened"));
      return batch.rows < batchSize ? Future.<Void>succeededFuture() : batches(table, batch.last, now, total);
    });
  }

  /** Seals the row's values again with the current key; the row's new values ({@code id} first) join the batch's changes if any changed. */
  private void reseal(Sealed table, Row row, Batch batch) {
    String id = row.getString(0);
    batch.rows++;
    batch.last = id;
    List<Object> values = new ArrayList<>();
    values.add(id);
    boolean changed = false;
    for (int i = 0; i < table.columns().size(); i++) {
      Buffer sealed = row.getBuffer(i + 1);
      values.add(sealed);
      if (sealed == null) {
        continue;
      }
      byte[] bytes = sealed.getBytes();
      if (box.sealedWithCurrentKey(bytes)) {
        batch.alreadyCurrent++;
        continue;
      }
      try {
        values.set(i + 1, Buffer.buffer(box.seal(box.open(bytes))));
        batch.resealed++;
        changed = true;
      } catch (IllegalStateException e) {
        batch.unopenable.add(table.table() + "." + table.columns().get(i) + " of " + id);
      }
    }
    if (changed) {
      batch.changed.add(Tuple.tuple(values));
    }
  }
}
