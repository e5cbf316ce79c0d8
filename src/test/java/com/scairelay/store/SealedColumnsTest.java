package com.scairelay.store;

import com.scairelay.support.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A column sealed with the master key that the rotation does not know would be unreadable once the old key is gone. */
class SealedColumnsTest {
  @Test
  void theRotationKnowsEveryEncryptedColumnOfTheSchema() {
    Vertx vertx = Vertx.vertx();
    try {
      Pool pool = PgBuilder.pool().connectingTo(TestPostgres.freshDatabase()).using(vertx).build();
      List<String> schema = new ArrayList<>();
      pool.query("""
          SELECT table_name || '.' || column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type = 'bytea' AND column_name LIKE '%\\_enc' ORDER BY 1""")
          .execute().await().forEach(row -> schema.add(row.getString(0)));

      List<String> rotated = MasterKeyRotation.SEALED.stream()
          .flatMap(table -> table.columns().stream().map(column -> table.table() + "." + column)).toList();
      assertThat(schema).isNotEmpty();
      assertThat(rotated).containsExactlyInAnyOrderElementsOf(schema);
    } finally {
      vertx.close().await();
    }
  }
}
