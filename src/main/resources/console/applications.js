// Applications (OAuth 2 clients) and API keys: list, create with the secret shown once, rotate, delete
// or revoke.

import { api } from './api.js';
import {
  h, page, table, time, field, input, button, guarded, secretBox, showOnceNext, takeOnce, confirmed, checkboxes, checked,
  pager, slices, SCOPES,
} from './ui.js';

const PAGE = 25;

export async function list() {
  const once = takeOnce();
  const secretSlot = h('div', { id: 'secret-slot' }, once);
  const body = await api('GET', '/v1/admin/applications');
  const rotate = async (app) => {
    const rotated = await api('POST', `/v1/admin/applications/${encodeURIComponent(app.client_id)}/rotate-secret`);
    secretSlot.replaceChildren(secretBox(`New client secret of ${app.name}`, rotated.client_secret,
      `The old secret keeps working until ${time(rotated.previous_secret_expires_at)}.`));
    secretSlot.scrollIntoView();
  };
  const remove = async (app) => {
    if (!await confirmed(`Delete application ${app.name} (${app.client_id})? Its tokens stop working at once.`)) return;
    await api('DELETE', `/v1/admin/applications/${encodeURIComponent(app.client_id)}`);
    await list();
  };
  const apps = pager('applications-pages', slices(body.applications || [], PAGE), (rows) => table('applications', [
    ['Name', (a) => h('span', { test: 'application-name' }, a.name)],
    ['Client id', (a) => h('code', { test: 'client-id' }, a.client_id)],
    ['Scopes', (a) => (a.scopes || []).join(' ')],
    ['Token lifetime', (a) => `${a.token_lifetime} s`],
    ['Redirect URIs', (a) => (a.redirect_uris || []).join(' ') || '—'],
    ['Old secret valid until', (a) => time(a.previous_secret_expires_at)],
    ['Created', (a) => time(a.created_at)],
    ['', (a) => h('div', { class: 'actions' },
      h('a', { href: `#/applications/${encodeURIComponent(a.client_id)}/edit`, class: 'button', test: 'application-edit' }, 'Edit'),
      button('Rotate secret', () => rotate(a), { test: 'application-rotate' }),
      button('Delete', () => remove(a), { class: 'danger', test: 'application-delete' }))],
  ], rows, 'No applications yet.'));
  page('Applications',
    secretSlot,
    h('div', { class: 'row' }, h('a', { href: '#/applications/new', class: 'button primary', id: 'new-application' }, 'New application')),
    apps);
  return apps.start();
}

/** One redirect URI per line (not commas: a URI may have them). */
const uriLines = (text) => String(text || '').split('\n').map((l) => l.trim()).filter(Boolean);

/**
 * The application form: empty for "New application", filled from {@code existing} to edit one (PATCH
 * changes description, scopes, token lifetime and redirect URIs; the name stays).
 */
function applicationForm(existing, submitLabel) {
  const a = existing || { scopes: [], redirect_uris: [] };
  const form = h('form', { id: 'application-form', class: 'panel', novalidate: true },
    existing ? null : field('Name', input('name', { required: true })),
    field('Description (optional)', input('description', { value: a.description || undefined })),
    checkboxes('Scopes', 'scopes', SCOPES, a.scopes || []),
    field('Token lifetime (seconds)', input('token_lifetime', { type: 'number', min: 60, placeholder: '3600',
      value: existing ? a.token_lifetime : undefined })),
    field('Redirect URIs (optional)', h('textarea', { id: 'redirect_uris', name: 'redirect_uris', rows: 2 }, (a.redirect_uris || []).join('\n')),
      'For the authorization-code flow: one per line, matched exactly.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'application-submit' }, submitLabel),
      h('a', { href: '#/applications', class: 'button' }, 'Cancel')));
  const body = () => {
    const el = form.elements;
    const out = { scopes: checked(form, 'scopes') };
    if (!existing) out.name = el.name.value.trim();
    // A new application leaves out what is empty; an edit sends every field, so that clearing one clears it.
    if (existing || el.description.value.trim()) out.description = el.description.value.trim();
    if (el.token_lifetime.value) out.token_lifetime = Number(el.token_lifetime.value);
    const uris = uriLines(el.redirect_uris.value);
    if (existing || uris.length) out.redirect_uris = uris;
    return out;
  };
  return { form, body };
}

export function create() {
  const { form, body } = applicationForm(null, 'Create application');
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const app = await api('POST', '/v1/admin/applications', body());
    showOnceNext(`Client secret of ${app.name} (client id ${app.client_id})`, app.client_secret);
    location.hash = '#/applications';
  }));
  page('New application', form);
  form.elements.name.focus();
}

export async function edit(id) {
  const path = `/v1/admin/applications/${encodeURIComponent(id)}`;
  const app = await api('GET', path);
  const { form, body } = applicationForm(app, 'Save changes');
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    await api('PATCH', path, body());
    location.hash = '#/applications';
  }));
  page(`Edit ${app.name}`, form);
  form.elements.description.focus();
}

export async function keys() {
  const secretSlot = h('div', { id: 'secret-slot' });
  const body = await api('GET', '/v1/admin/api-keys');
  const form = h('form', { id: 'api-key-form', class: 'panel', novalidate: true },
    h('h2', {}, 'New API key'),
    field('Name', input('key-name', { required: true })),
    checkboxes('Scopes', 'key-scopes', SCOPES),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'api-key-submit' }, 'Create API key')));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const key = await api('POST', '/v1/admin/api-keys', { name: form.elements['key-name'].value.trim(), scopes: checked(form, 'key-scopes') });
    await keys();
    document.getElementById('secret-slot').replaceChildren(secretBox(`API key ${key.name} (${key.key_id})`, key.api_key,
      'Use it as a bearer token. Revoking it cuts it off at once.'));
  }));
  const revoke = async (key) => {
    if (!await confirmed(`Revoke API key ${key.name} (${key.key_id})? It stops working at once.`, 'Revoke')) return;
    await api('DELETE', `/v1/admin/api-keys/${encodeURIComponent(key.key_id)}`);
    await keys();
  };
  const pages = pager('api-keys-pages', slices(body.api_keys || [], PAGE), (rows) => table('api-keys', [
    ['Name', (k) => h('span', { test: 'api-key-name' }, k.name)],
    ['Key id', (k) => h('code', {}, k.key_id)],
    ['Scopes', (k) => (k.scopes || []).join(' ')],
    ['Created by', (k) => k.created_by || '—'],
    ['Created', (k) => time(k.created_at)],
    ['', (k) => button('Revoke', () => revoke(k), { class: 'danger', test: 'api-key-revoke' })],
  ], rows, 'No API keys yet.'));
  page('API keys', secretSlot, pages, form);
  return pages.start();
}
