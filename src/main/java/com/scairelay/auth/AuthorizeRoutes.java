package com.scairelay.auth;

import com.scairelay.audit.AuditLog;
import com.scairelay.audit.Category;
import com.scairelay.audit.FailureAuditLimiter;
import com.scairelay.http.ProblemException;
import com.scairelay.http.Routes;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code GET /oauth/authorize} shows the sign-in and consent page of the authorization-code flow
 * (RFC 6749 §4.1, PKCE S256 only); {@code POST /oauth/authorize} is that page's form: it checks the
 * request again (the hidden fields are the browser's to change), signs the person in with any token
 * the API accepts, and sends the browser back to the client with a code or an error.
 *
 * <p>Errors follow RFC 6749 §4.1.2.1: while the client and its redirect URI are not established, a
 * 400 page (never a redirect to an address no one registered); after that, a 303 to the redirect URI
 * with {@code error}, {@code error_description} and {@code state}. A wrong token shows the page again
 * (401). Neither the form body nor the token is logged.
 */
public record AuthorizeRoutes(AccessGuard guard, OAuthClients clients, AuthorizationCodes codes, AuditLog audit,
                              FailureAuditLimiter failureAudits, Clock clock) implements Routes {
  private static final Logger log = LoggerFactory.getLogger(AuthorizeRoutes.class);
  private static final String PATH = "/oauth/authorize";

  /** A request whose client and redirect URI are established: errors may go back to the client now. */
  private record Trusted(Application client, String redirectUri, String state) {
  }

  /** A request that passed every check: {@code scopes} asked for (GET) or checked (POST), {@code offered} shown. */
  private record Checked(Trusted trusted, String challenge, List<String> scopes, List<String> offered) {
  }

  /** An error shown on a 400 page: the redirect URI cannot be trusted. */
  private static final class PageError extends RuntimeException {
    PageError(String description) {
      super(description, null, false, false);
    }
  }

  /** An RFC 6749 §4.1.2.1 error, sent to the client's redirect URI. */
  private static final class RedirectError extends RuntimeException {
    final Trusted to;
    final String error;

    RedirectError(Trusted to, String error, String description) {
      super(description, null, false, false);
      this.to = to;
      this.error = error;
    }
  }

  /** The token did not sign the person in: the page again, with the reason. */
  private static final class SignInFailed extends RuntimeException {
    final Checked request;
    final int status;

    SignInFailed(Checked request, int status, String description) {
      super(description, null, false, false);
      this.request = request;
      this.status = status;
    }
  }

  @Override
  public void mount(Router router) {
    router.get(PATH).handler(this::show);
    router.post(PATH).handler(this::decide).failureHandler(this::unreadableForm);
  }

  private void show(RoutingContext ctx) {
    MultiMap query;
    try {
      query = ctx.queryParams();
    } catch (IllegalArgumentException e) {
      answer(ctx, new PageError("the address has a malformed %-escape"));
      return;
    }
    trusted(query, host(ctx))
        .compose(to -> guarded(to, () -> Future.succeededFuture(checked(to, query, false))))
        .onSuccess(request -> page(ctx, 200, request, null))
        .onFailure(err -> answer(ctx, err));
  }

  private void decide(RoutingContext ctx) {
    FormBody.read(ctx);
    MultiMap form = ctx.request().formAttributes();
    trusted(form, host(ctx))
        .compose(to -> guarded(to, () -> {
          Checked request = checked(to, form, true);
          String decision = form.get("decision");
          if ("deny".equals(decision)) {
            throw new RedirectError(to, "access_denied", "the person denied the request");
          }
          if (!"allow".equals(decision)) {
            throw new RedirectError(to, "invalid_request", "decision must be allow or deny");
          }
          String token = form.get("token");
          return guard.authenticateToken(token == null ? null : token.trim())
              .recover(err -> signInFailed(ctx, request, err))
              .compose(person -> granted(request, person));
        }))
        .onSuccess(location -> ConsentPage.redirect(ctx, location))
        .onFailure(err -> answer(ctx, err));
  }

  /** The client and its redirect URI, before anything may be sent to that URI. */
  private Future<Trusted> trusted(MultiMap params, String host) {
    String clientId;
    String redirectUri;
    try {
      clientId = required(params, "client_id");
      redirectUri = required(params, "redirect_uri");
    } catch (PageError e) {
      return Future.failedFuture(e);
    }
    List<String> states = params.getAll("state");
    return clients.find(clientId).map(found -> {
      Application client = found.orElseThrow(() -> new PageError("there is no application '" + clientId + "' on this relay"));
      if (!clients.redirectAllowed(client, redirectUri, host)) {
        throw new PageError(OAuthClients.isConsole(clientId)
            ? "the console may only be sent back to its own address (http://" + host + "/ or https://" + host + "/), not " + redirectUri
            : "the redirect_uri " + redirectUri + " is not one registered for the application " + client.name());
      }
      Trusted to = new Trusted(client, redirectUri, states.isEmpty() ? null : states.get(0));
      if (states.size() > 1) {
        throw new RedirectError(new Trusted(client, redirectUri, null), "invalid_request", "state is given more than once");
      }
      return to;
    });
  }

  /** Runs the checks and steps after the redirect URI is trusted; a failure of the node becomes server_error there. */
  private static <T> Future<T> guarded(Trusted to, Supplier<Future<T>> step) {
    try {
      return step.get().recover(err -> Future.failedFuture(asRedirect(to, err)));
    } catch (RuntimeException e) {
      return Future.failedFuture(asRedirect(to, e));
    }
  }

  private static Throwable asRedirect(Trusted to, Throwable err) {
    if (err instanceof RedirectError || err instanceof SignInFailed) {
      return err;
    }
    log.warn("authorization request of client {} failed: {}", to.client().clientId(), err.toString());
    return new RedirectError(to, "server_error", "the relay could not complete the request; try again");
  }

  /** RFC 6749 §4.1.2.1 in order: response_type, then PKCE, then scope. {@code posted}: the checked scopes, exactly. */
  private static Checked checked(Trusted to, MultiMap params, boolean posted) {
    String responseType = single(to, params, "response_type");
    if (responseType == null || responseType.isEmpty()) {
      throw new RedirectError(to, "invalid_request", "response_type is required");
    }
    if (!responseType.equals("code")) {
      throw new RedirectError(to, "unsupported_response_type", "only response_type=code is supported");
    }
    String challenge = single(to, params, "code_challenge");
    if (challenge == null || challenge.isEmpty()) {
      throw new RedirectError(to, "invalid_request", "code_challenge is required (PKCE with code_challenge_method=S256)");
    }
    if (!Pkce.wellFormed(challenge)) {
      throw new RedirectError(to, "invalid_request", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
    }
    String method = single(to, params, "code_challenge_method");
    if (method == null || method.isEmpty()) {
      throw new RedirectError(to, "invalid_request", "code_challenge_method=S256 is required; plain is not accepted");
    }
    if (!method.equals(Pkce.S256)) {
      throw new RedirectError(to, "invalid_request", "code_challenge_method " + method + " is refused: only S256 is accepted");
    }
    List<String> allowed = to.client().scopes();
    List<String> scopes;
    if (posted) {
      scopes = words(params.getAll("scope"));
    } else {
      String scope = single(to, params, "scope");
      scopes = scope == null || scope.isBlank() ? allowed : words(List.of(scope));
    }
    List<String> refused = scopes.stream().filter(s -> !allowed.contains(s)).toList();
    if (!refused.isEmpty()) {
      throw new RedirectError(to, "invalid_scope", "not allowed for this application: " + String.join(" ", refused));
    }
    List<String> offered = scopes;
    if (posted) {
      Set<String> shown = new LinkedHashSet<>(words(params.getAll("offered")));
      shown.addAll(scopes);
      offered = allowed.stream().filter(shown::contains).toList();
    }
    return new Checked(to, challenge, scopes, offered);
  }

  /** The scopes the person can grant, in a new code; answers where the browser goes with it. */
  private Future<String> granted(Checked request, Principal person) {
    Trusted to = request.trusted();
    List<String> scopes = request.scopes().stream().filter(person::has).toList();
    if (scopes.isEmpty()) {
      return Future.failedFuture(new RedirectError(to, "access_denied", request.scopes().isEmpty()
          ? "no scope was checked" : "the token signed in with has none of the scopes checked, so none could be granted"));
    }
    String clientId = to.client().clientId();
    String scope = String.join(" ", scopes);
    Instant now = clock.instant();
    var event = audit.event(Category.AUTHENTICATION, "oauth.authorization_granted", person.userId(), clientId,
        new JsonObject().put("client_id", clientId).put("scope", scope)).withServiceAccount(clientId);
    return codes.issue(new AuthorizationCodes.Grant(clientId, to.redirectUri(), request.challenge(), person.userId(), scopes), now, event)
        .map(code -> location(to.redirectUri(), "code", code, null, to.state()));
  }

  /** A 401 from the guard is the person's mistake: the page again, and an audit event (bounded per client). */
  private Future<Principal> signInFailed(RoutingContext ctx, Checked request, Throwable err) {
    if (!(err instanceof ProblemException problem) || problem.status() != 401 && problem.status() != 503) {
      return Future.failedFuture(err);
    }
    SignInFailed failed = new SignInFailed(request, problem.status(), problem.status() == 401
        ? "Sign-in failed: " + problem.detail() : "The relay could not check the token now; try again. (" + problem.detail() + ")");
    String clientId = request.trusted().client().clientId();
    OptionalLong admitted = problem.status() == 401 ? failureAudits.admit("sign-in:" + clientId, clock.instant()) : OptionalLong.empty();
    if (admitted.isEmpty()) {
      return Future.failedFuture(failed);
    }
    JsonObject payload = new JsonObject().put("client_id", clientId).put("reason", problem.detail())
        .put("remote_address", ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress());
    if (admitted.getAsLong() > 0) {
      payload.put("not_recorded_before", admitted.getAsLong());
    }
    return audit.record(audit.event(Category.AUTHENTICATION, "oauth.sign_in_failed", null, clientId, payload).withServiceAccount(clientId))
        .transform(ar -> Future.failedFuture(failed));
  }

  private void answer(RoutingContext ctx, Throwable err) {
    if (err instanceof PageError) {
      ConsentPage.write(ctx, 400, ConsentPage.error(err.getMessage()), null);
    } else if (err instanceof RedirectError e) {
      ConsentPage.redirect(ctx, location(e.to.redirectUri(), "error", e.error, e.getMessage(), e.to.state()));
    } else if (err instanceof SignInFailed e) {
      page(ctx, e.status, e.request, e.getMessage());
    } else {
      ctx.fail(err);
    }
  }

  private static void page(RoutingContext ctx, int status, Checked request, String error) {
    Trusted to = request.trusted();
    ConsentPage.Form form = new ConsentPage.Form(to.client().name(), to.client().clientId(), to.redirectUri(), to.state(),
        request.challenge(), request.offered(), request.scopes(), error);
    ConsentPage.write(ctx, status, ConsentPage.consent(form), to.redirectUri());
  }

  /** A form body Vert.x could not decode (a malformed %-escape): a 400 page, not a stack trace. */
  private void unreadableForm(RoutingContext ctx) {
    if (FormBody.undecodable(ctx)) {
      ConsentPage.write(ctx, 400, ConsentPage.error("the form could not be read: it has a malformed %-escape"), null);
    } else {
      ctx.next();
    }
  }

  /** {@code redirectUri} with {@code key=value}, {@code error_description} and {@code state} added to its query. */
  static String location(String redirectUri, String key, String value, String description, String state) {
    int fragment = redirectUri.indexOf('#');
    String base = fragment < 0 ? redirectUri : redirectUri.substring(0, fragment);
    StringBuilder out = new StringBuilder(base).append(base.contains("?") ? '&' : '?').append(key).append('=').append(encode(value));
    if (description != null) {
      out.append("&error_description=").append(encode(description));
    }
    if (state != null) {
      out.append("&state=").append(encode(state));
    }
    return out.toString();
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static String host(RoutingContext ctx) {
    return ctx.request().getHeader("Host");
  }

  /** A parameter of the part before the redirect URI is trusted: present once, no control characters. */
  private static String required(MultiMap params, String name) {
    List<String> values = params.getAll(name);
    if (values.isEmpty() || values.get(0).isBlank()) {
      throw new PageError(name + " is required");
    }
    if (values.size() > 1) {
      throw new PageError(name + " is given more than once");
    }
    String value = values.get(0);
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f) || value.length() > 2048) {
      throw new PageError(name + " has a control character or is too long");
    }
    return value;
  }

  /** A parameter given at most once (RFC 6749 §3.1), or null. */
  private static String single(Trusted to, MultiMap params, String name) {
    List<String> values = params.getAll(name);
    if (values.size() > 1) {
      throw new RedirectError(to, "invalid_request", name + " is given more than once");
    }
    return values.isEmpty() ? null : values.get(0);
  }

  /** Space-separated words of each value, in order, without repeats. */
  private static List<String> words(List<String> values) {
    Set<String> out = new LinkedHashSet<>();
    for (String value : values) {
      if (!value.isBlank()) {
        out.addAll(Arrays.asList(value.trim().split("\\s+")));
      }
    }
    return new ArrayList<>(out);
  }
}
