package com.scairelay.store;

import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Migration 15, in Java because it names participants with {@link Fqids} itself (one form, one place):
 * every stored fqid becomes fully qualified for {@code serverName}. A native {@code alice} becomes
 * {@code @alice:<server>}, a native {@code @x:y} stays, a shadow {@code bridge:<bridge>:<external>}
 * becomes {@link Fqids#shadow}. Participant and event ids stay; only where a room held both
 * {@code alice} and {@code @alice:<server>} (one person, now one id) do the bare one's events move to
 * the other and the bare one go. The server name is recorded ({@link ServerIdentity}) when there was
 * anything to name. Rooms are read one at a time, in order, so memory is bounded by the largest room.
 */
final class QualifiedFqids implements JavaMigration {
  private static final String SELECT = """
      SELECT id, room_id, kind, fqid, bridge_id, external_id FROM participants ORDER BY room_id, created_at, id""";

  private record Participant(String id, String kind, String fqid, String qualified) {
  }

  private final Fqids fqids;

  QualifiedFqids(String serverName) {
    this.fqids = new Fqids(serverName);
  }

  @Override
  public MigrationVersion getVersion() {
    return MigrationVersion.fromVersion("15");
  }

  @Override
  public String getDescription() {
    return "qualified fqids";
  }

  @Override
  public Integer getChecksum() {
    return null;
  }

  @Override
  public boolean canExecuteInTransaction() {
    return true;
  }

  @Override
  public void migrate(Context context) throws SQLException {
    Connection db = context.getConnection();
    try (Statement ddl = db.createStatement()) {
      ddl.execute(ServerIdentity.TABLE);
    }
    try (PreparedStatement select = db.prepareStatement(SELECT);
         PreparedStatement rename = db.prepareStatement("UPDATE participants SET fqid = ? WHERE id = ?");
         PreparedStatement move = db.prepareStatement("UPDATE events SET sender_id = ? WHERE sender_id = ?");
         PreparedStatement drop = db.prepareStatement("DELETE FROM participants WHERE id = ?")) {
      select.setFetchSize(1_000);
      try (ResultSet rows = select.executeQuery()) {
        String room = null;
        List<Participant> inRoom = new ArrayList<>();
        while (rows.next()) {
          if (!rows.getString("room_id").equals(room)) {
            qualify(inRoom, rename, move, drop);
            room = rows.getString("room_id");
          }
          String fqid = rows.getString("fqid");
          String kind = rows.getString("kind");
          String qualified = kind.equals("shadow") ? fqids.shadow(rows.getString("bridge_id"), rows.getString("external_id"))
              : Fqids.isQualified(fqid) ? fqid : "@" + fqid + ":" + fqids.serverName();
          inRoom.add(new Participant(rows.getString("id"), kind, fqid, qualified));
        }
        qualify(inRoom, rename, move, drop);
      }
    }
    try (PreparedStatement record = db.prepareStatement(
        "INSERT INTO server_identity (name) SELECT ? WHERE EXISTS (SELECT 1 FROM participants)")) {
      record.setString(1, fqids.serverName());
      record.executeUpdate();
    }
  }

  /** Renames one room's participants; of those that end with one fqid, the one that had it already (else the oldest) stays. */
  private static void qualify(List<Participant> inRoom, PreparedStatement rename, PreparedStatement move, PreparedStatement drop)
      throws SQLException {
    Map<String, List<Participant>> byFqid = new LinkedHashMap<>();
    inRoom.forEach(p -> byFqid.computeIfAbsent(p.qualified(), k -> new ArrayList<>()).add(p));
    for (List<Participant> same : byFqid.values()) {
      Participant kept = same.stream().filter(p -> p.fqid().equals(p.qualified())).findFirst().orElse(same.get(0));
      for (Participant other : same) {
        if (other == kept) {
          continue;
        }
        if (!other.kind().equals(kept.kind())) {
          throw new FlywayException("participants " + kept.id() + " and " + other.id() + " would both be " + kept.qualified()
              + " (one native, one shadow); rename the native one and start again");
        }
        move.setString(1, kept.id());
        move.setString(2, other.id());
        move.addBatch();
        drop.setString(1, other.id());
        drop.addBatch();
      }
      if (!kept.fqid().equals(kept.qualified())) {
        rename.setString(1, kept.qualified());
        rename.setString(2, kept.id());
        rename.addBatch();
      }
    }
    move.executeBatch();
    drop.executeBatch();
    rename.executeBatch();
    inRoom.clear();
  }
}
