package com.scairelay.http;

import java.util.Map;

/**
 * An answer other than success, raised anywhere in a route and written once by {@link ProblemHandler}
 * as {@code application/problem+json} (RFC 9457). Carries no stack trace: it is an answer, not a bug.
 */
public final class ProblemException extends RuntimeException {
  private final int status;
  private final String title;
  private final Map<String, String> headers;

  public ProblemException(int status, String title, String detail) {
    this(status, title, detail, Map.of());
  }

  public ProblemException(int status, String title, String detail, Map<String, String> headers) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.headers = headers;
  }

  public static ProblemException badRequest(String detail) {
    return new ProblemException(400, "Bad Request", detail);
  }

  public static ProblemException notFound(String detail) {
    return new ProblemException(404, "Not Found", detail);
  }

  public static ProblemException unauthorized(String detail) {
    return new ProblemException(401, "Unauthorized", detail, Map.of("WWW-Authenticate", "Bearer"));
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return getMessage();
  }

  public Map<String, String> headers() {
    return headers;
  }
}
