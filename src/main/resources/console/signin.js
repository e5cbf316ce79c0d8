// Signing in: a token pasted in (admin token, API key or access token), or the authorization-code
// flow with PKCE through the node's consent page (client "console"). The token lives in sessionStorage
// only; the verifier and state too, until the code comes back.

import { api, session, base64url, showError, ApiError } from './api.js';
import { h, page, field, input, guarded, SCOPES } from './ui.js';
import { sha256 } from './sha256.js';

const VERIFIER = 'scairelay.pkce.verifier';
const STATE = 'scairelay.pkce.state';

function randomText(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier) {
  const bytes = new TextEncoder().encode(verifier);
  const digest = window.crypto && crypto.subtle ? new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)) : sha256(bytes);
  return base64url(digest);
}

const redirectUri = () => `${location.origin}/`;

/** Off to the consent page; it comes back to / with ?code=…&state=… (or ?error=…). */
export async function startAuthorization() {
  const verifier = randomText(32);
  const state = randomText(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const query = new URLSearchParams({
    response_type: 'code', client_id: 'console', redirect_uri: redirectUri(), scope: SCOPES.join(' '), state,
    code_challenge: await challengeOf(verifier), code_challenge_method: 'S256',
  });
  location.assign(`/oauth/authorize?${query}`);
}

/**
 * Back from the consent page: checks the state, trades the code for a token and takes the code out of
 * the address bar. True when the address carried an answer of the flow.
 */
export async function finishAuthorization() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return false;
  const expected = sessionStorage.getItem(STATE);
  const verifier = sessionStorage.getItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  history.replaceState(null, '', '/#/signin');
  if (params.has('error')) {
    showError(new ApiError(400, 'Sign-in refused', `${params.get('error')}${params.get('error_description') ? `: ${params.get('error_description')}` : ''}`));
    return true;
  }
  if (!expected || params.get('state') !== expected || !verifier) {
    showError(new ApiError(400, 'Sign-in refused', 'the answer of the consent page does not match a sign-in started here (state differs); try again'));
    return true;
  }
  try {
    const answer = await api('POST', '/oauth/token', null, {
      anonymous: true,
      form: { grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri(), code_verifier: verifier, client_id: 'console' },
    });
    session.signIn(answer.access_token);
    history.replaceState(null, '', '/#/bridges');
  } catch (e) { /* shown */ }
  return true;
}

/** Whether the node takes this token: 401 says no; 403 means it is valid but cannot read bridges. */
async function accepted(token) {
  try {
    await api('GET', '/v1/admin/transports', null, { token, quiet: true });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return true;
    if (err instanceof ApiError && err.status === 401) {
      showError(new ApiError(401, 'Sign-in refused', `the node does not accept this token: ${err.detail}`));
      return false;
    }
    showError(err);
    return false;
  }
}

export function show() {
  const token = input('signin-token', { type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const form = h('form', { id: 'signin-form', class: 'panel signin' },
    h('p', {}, 'Sign in with the admin token, an API key (sak_…) or an access token. It is kept in this tab only, until you sign out or close it.'),
    field('Token', token, 'Admin token, API key, or access token'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, 'Sign in')),
    h('hr'),
    h('p', {}, 'Or sign in on the node\'s consent page, and grant this console its scopes:'),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'signin-oauth', onclick: guarded(startAuthorization) },
      'Sign in through the consent page')));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    if (!value) {
      showError(new Error('Enter a token, or sign in through the consent page.'));
      return;
    }
    if (await accepted(value)) {
      session.signIn(value);
      location.hash = '#/bridges';
    }
  }));
  page('Sign in', form);
  token.focus();
}
