package com.scairelay.bridges;

import com.scairelay.transport.ShadowProfiles;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.time.Clock;

import static com.scairelay.store.Times.utc;

/** The shadow participants of bridges in PostgreSQL: their profile, as the platform last described it. */
public record BridgeShadows(Pool pool, Clock clock) implements ShadowProfiles {
  private static final String UPDATE = """
      UPDATE participants SET display_name = $3, avatar_url = $4, updated_at = $5
      WHERE bridge_id = $1 AND external_id = $2
        AND (display_name IS DISTINCT FROM $3 OR avatar_url IS DISTINCT FROM $4)""";

  @Override
  public Future<Void> update(String bridgeId, String externalId, String displayName, String avatarUrl) {
    return pool.preparedQuery(UPDATE).execute(Tuple.of(bridgeId, externalId, displayName, avatarUrl, utc(clock.instant()))).mapEmpty();
  }
}
