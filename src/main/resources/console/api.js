// The one way the console talks to the node: a bearer token from sessionStorage, JSON in and out,
// and every failure shown with its problem detail (or OAuth error_description) and status.

const TOKEN_KEY = 'scairelay.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

let onUnauthorized = () => {};
/** What happens when a signed-in call gets 401: the token is gone or no longer valid. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function showError(err) {
  const area = document.getElementById('error');
  if (err instanceof ApiError) {
    area.textContent = `${err.status} ${err.title}: ${err.detail}`;
  } else {
    area.textContent = String(err && err.message ? err.message : err);
  }
  area.hidden = false;
}

export function clearError() {
  const area = document.getElementById('error');
  area.textContent = '';
  area.hidden = true;
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function problemOf(response) {
  const text = await response.text();
  let body = {};
  try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
  const detail = body.detail || body.error_description || body.error || text || response.statusText;
  return new ApiError(response.status, body.title || response.statusText || 'Error', detail);
}

/**
 * {@code api('POST', '/v1/admin/bridges', body, {query})}: the parsed JSON answer (null for 204);
 * throws ApiError after showing it (unless {@code quiet}). {@code form} sends application/x-www-form-urlencoded
 * instead; {@code token} uses another token than the session's, {@code anonymous} none.
 */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  const token = options.anonymous ? null : options.token || session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (options.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(options.form).toString();
  } else if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(withQuery(path, options.query), { method, headers, body: payload, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    const err = new ApiError(0, 'Network error', `the node did not answer ${method} ${path}: ${e.message}`);
    if (!options.quiet) showError(err);
    throw err;
  }
  if (!response.ok) {
    const err = await problemOf(response);
    if (!options.quiet) showError(err);
    if (response.status === 401 && !options.token && !options.anonymous && session.token()) onUnauthorized(err);
    throw err;
  }
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export function base64url(bytes) {
  let binary = '';
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A room's live stream; the token travels as a subprotocol, since a browser cannot set headers here. */
export function roomStream(roomId) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const bearer = 'bearer.' + base64url(new TextEncoder().encode(session.token() || ''));
  return new WebSocket(`${scheme}//${location.host}/v1/rooms/${encodeURIComponent(roomId)}/stream`, ['scairelay.v1', bearer]);
}
