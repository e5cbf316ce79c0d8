package com.scairelay.ingress;

import com.scairelay.support.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The console's files as plain HTTP: what the node serves at / and /console/, and what it still refuses. */
class ConsoleRoutesTest {
  private static final String CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
      + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
  private static TestNode node;

  @BeforeAll
  static void start() {
    node = TestNode.start();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static HttpResponse<Buffer> get(String path) {
    return node.send(node.request(HttpMethod.GET, path), null);
  }

  @Test
  void rootIsTheConsolePageWithItsSecurityHeadersAndNoCache() {
    HttpResponse<Buffer> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Type")).startsWith("text/html");
    assertThat(page.getHeader("Content-Security-Policy")).isEqualTo(CSP);
    assertThat(page.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
    assertThat(page.getHeader("Cache-Control")).isEqualTo("no-cache");
    assertThat(page.bodyAsString()).contains("<script type=\"module\" src=\"/console/app.js\"></script>", "id=\"error\"");
  }

  @Test
  void assetsAreServedWithTheirTypesAndTheSameHeaders() {
    HttpResponse<Buffer> script = get("/console/app.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.getHeader("Content-Type")).matches("(application|text)/javascript.*");
    assertThat(script.getHeader("Content-Security-Policy")).isEqualTo(CSP);
    assertThat(script.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(script.bodyAsString()).contains("import");
    HttpResponse<Buffer> css = get("/console/console.css");
    assertThat(css.statusCode()).isEqualTo(200);
    assertThat(css.getHeader("Content-Type")).startsWith("text/css");
  }

  @Test
  void headAnswersLikeGetWithoutABody() {
    HttpResponse<Buffer> head = node.send(node.request(HttpMethod.HEAD, "/"), null);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.getHeader("Content-Security-Policy")).isEqualTo(CSP);
    assertThat(head.body()).isNull();
  }

  @Test
  void anUnknownConsoleFileIsAProblem404() {
    for (String path : new String[] {"/console/x", "/console/nothing.js", "/console/../pom.xml", "/console/%2e%2e/db/migration"}) {
      HttpResponse<Buffer> missing = get(path);
      assertThat(missing.statusCode()).as(path).isEqualTo(404);
      assertThat(missing.getHeader("Content-Type")).as(path).startsWith("application/problem+json");
    }
  }

  @Test
  void apiPathsStillAnswerProblemsAsBefore() {
    HttpResponse<Buffer> unknown = get("/v1/nothing-here");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.getHeader("Content-Type")).startsWith("application/problem+json");
    assertThat(unknown.bodyAsJsonObject().getString("detail")).isEqualTo("no resource at /v1/nothing-here");
    assertThat(unknown.getHeader("Content-Security-Policy")).isNull();
    HttpResponse<Buffer> wrongMethod = node.send(node.request(HttpMethod.POST, "/"), null);
    assertThat(wrongMethod.statusCode()).isIn(404, 405);
    assertThat(wrongMethod.getHeader("Content-Type")).startsWith("application/problem+json");
    HttpResponse<Buffer> bridges = get("/v1/admin/bridges");
    assertThat(bridges.statusCode()).isEqualTo(401);
  }
}
