package com.scairelay.transport;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** How a platform posts into a bridge: {@code POST /v1/bridges/{id}/<path>}, verified, then read into a room event. */
public interface InboundAdapter {
  /** The path under {@code /v1/bridges/{id}/}, e.g. {@code inbound}. */
  String path();

  /** Empty when the request is signed with one of {@code secrets} within {@code tolerance}; otherwise why not. */
  Optional<String> verify(MultiMap headers, Buffer body, List<String> secrets, Instant now, Duration tolerance);

  /** The event in a verified body; a 400 {@code ProblemException} naming the field when it is wrong. */
  InboundEvent parse(Buffer body);
}
