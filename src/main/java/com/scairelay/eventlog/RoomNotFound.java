package com.scairelay.eventlog;

/** An append named a room that does not exist; nothing was stored. */
public final class RoomNotFound extends RuntimeException {
  private final String roomId;

  RoomNotFound(String roomId) {
    super("room " + roomId + " does not exist", null, false, false);
    this.roomId = roomId;
  }

  public String roomId() {
    return roomId;
  }
}
