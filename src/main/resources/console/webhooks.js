// Webhook subscriptions: list, "New webhook", the detail page with its deliveries, pause/resume,
// rotate, delete and "Send test event".

import { api } from './api.js';
import {
  h, page, table, time, stateOf, badge, field, input, button, guarded, pager, secretBox, showOnceNext, takeOnce,
  confirmed, dl, checkboxes, checked, lines, CATEGORIES, pauseToggle,
} from './ui.js';
import { deliveryLog } from './deliveries.js';

const PAGE = 25;

async function loadPage(cursor) {
  const body = await api('GET', '/v1/admin/webhooks', null, { query: { limit: PAGE, cursor: cursor && cursor.server } });
  return { items: body.webhooks, next: body.next_cursor ? { server: body.next_cursor } : null };
}

const count = (w, name) => h('span', { test: `counter-${name}` }, (w.counters || {})[name] ?? '—');

export function list() {
  const webhooks = pager('webhooks', loadPage, (rows) => table('webhooks', [
    ['Name', (w) => h('a', { href: `#/webhooks/${encodeURIComponent(w.webhook_id)}`, test: 'webhook-link' }, w.name)],
    ['URL', (w) => h('code', {}, w.url)],
    ['Events', (w) => (w.events || []).join(', ')],
    ['State', (w) => badge(stateOf(w))],
    ['Delivered', (w) => count(w, 'delivered')],
    ['Failed', (w) => count(w, 'failed')],
    ['Queued', (w) => count(w, 'queued')],
    ['Created', (w) => time(w.created_at)],
  ], rows, 'No webhook subscriptions yet.'));
  page('Webhooks', h('div', { class: 'row' }, h('a', { href: '#/webhooks/new', class: 'button primary', id: 'new-webhook' }, 'New webhook')),
    webhooks);
  return webhooks.start();
}

/** "Name: value" lines → {name: value}. */
function headerLines(text) {
  const headers = {};
  String(text || '').split('\n').map((l) => l.trim()).filter(Boolean).forEach((line) => {
    const colon = line.indexOf(':');
    if (colon < 1) throw new Error(`custom header "${line}" must be "Name: value"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  });
  return headers;
}

/**
 * The webhook form: empty for "New webhook", filled from {@code existing} to edit one (PATCH cannot
 * change the secret, so editing has no secret field). Answers the form and what its fields say, as a body.
 */
function webhookForm(existing, submitLabel, cancelHref) {
  const w = existing || { events: ['ADMIN'], filters: {}, headers: {} };
  const area = (id, placeholder, value) => h('textarea', { id, name: id, rows: 2, placeholder }, value || '');
  const filter = (key) => ((w.filters || {})[key] || []).join('\n');
  const headerText = Object.entries(w.headers || {}).map(([name, value]) => `${name}: ${value}`).join('\n');
  const form = h('form', { id: 'webhook-form', class: 'panel', novalidate: true },
    field('Name', input('name', { required: true, value: w.name })),
    field('URL', input('url', { type: 'url', required: true, placeholder: 'https://…', value: w.url }), 'Receives each event as a signed POST.'),
    checkboxes('Event categories', 'events', CATEGORIES, w.events || []),
    h('fieldset', {}, h('legend', {}, 'Filters (optional; an event must match every filter given)'),
      field('Resource ids', area('resource_ids', 'one per line or comma-separated', filter('resource_ids'))),
      field('User ids', area('user_ids', 'one per line or comma-separated', filter('user_ids'))),
      field('IPs', area('ips', 'one per line or comma-separated', filter('ips')))),
    existing ? null : field('Secret (optional)', input('secret', { type: 'password', autocomplete: 'off', minlength: 16 }),
      'At least 16 characters; generated (whsec_…) when empty.'),
    field('Custom headers (optional)', area('headers', 'Authorization: Bearer …', headerText), 'One "Name: value" per line.'),
    field('Queue limit (optional)', input('queue_limit', { type: 'number', min: 1, placeholder: '1000', value: existing ? w.queue_limit : undefined })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'webhook-submit' }, submitLabel),
      h('a', { href: cancelHref, class: 'button' }, 'Cancel')));
  const body = () => {
    const el = form.elements;
    const out = { name: el.name.value.trim(), url: el.url.value.trim(), events: checked(form, 'events') };
    const filters = {};
    ['resource_ids', 'user_ids', 'ips'].forEach((k) => { const v = lines(el[k].value); if (v.length) filters[k] = v; });
    const headers = headerLines(el.headers.value);
    // A new webhook leaves out what is empty; an edit sends every field, so that clearing one clears it.
    if (existing || Object.keys(filters).length) out.filters = filters;
    if (existing || Object.keys(headers).length) out.headers = headers;
    if (el.queue_limit.value) out.queue_limit = Number(el.queue_limit.value);
    if (!existing && el.secret.value) out.secret = el.secret.value;
    return out;
  };
  return { form, body };
}

export function create() {
  const { form, body } = webhookForm(null, 'Create webhook', '#/webhooks');
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const webhook = await api('POST', '/v1/admin/webhooks', body());
    showOnceNext('Signing secret', webhook.secret, 'Receivers verify X-ScaiDrive-Signature with it.');
    location.hash = `#/webhooks/${encodeURIComponent(webhook.webhook_id)}`;
  }));
  page('New webhook', form);
  form.elements.name.focus();
}

export async function edit(id) {
  const path = `/v1/admin/webhooks/${encodeURIComponent(id)}`;
  const webhook = await api('GET', path);
  const detailHref = `#/webhooks/${encodeURIComponent(id)}`;
  const { form, body } = webhookForm(webhook, 'Save changes', detailHref);
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    await api('PATCH', path, body());
    location.hash = detailHref;
  }));
  page(`Edit ${webhook.name}`, form);
  form.elements.name.focus();
}

export async function detail(id) {
  const once = takeOnce();
  const path = `/v1/admin/webhooks/${encodeURIComponent(id)}`;
  const webhook = await api('GET', path);
  const secretSlot = h('div', { id: 'secret-slot' }, once);
  const notice = h('p', { class: 'notice', id: 'webhook-notice', 'aria-live': 'polite' });
  const log = deliveryLog('webhooks', id);
  page(webhook.name,
    secretSlot,
    h('section', { class: 'panel', 'aria-label': 'Webhook' },
      dl([
        ['Id', h('code', { test: 'webhook-id' }, webhook.webhook_id)],
        ['State', badge(stateOf(webhook))],
        ['URL', h('code', {}, webhook.url)],
        ['Events', (webhook.events || []).join(', ')],
        ['Filters', JSON.stringify(webhook.filters || {})],
        ['Custom headers', Object.keys(webhook.headers || {}).join(', ') || 'none'],
        ['Queue limit', webhook.queue_limit],
        ['Created', time(webhook.created_at)],
        ['Previous secret valid until', webhook.previous_secret_expires_at ? time(webhook.previous_secret_expires_at) : undefined],
      ]),
      h('div', { class: 'actions' },
        h('a', { href: `#/webhooks/${encodeURIComponent(id)}/edit`, class: 'button', id: 'webhook-edit' }, 'Edit'),
        button('Send test event', async () => {
          const sent = await api('POST', `${path}/test`);
          notice.textContent = `Test event ${sent.event_id} queued as delivery ${sent.delivery_id}.`;
          await log.start();
        }, { id: 'webhook-test', class: 'primary' }),
        pauseToggle('webhook', path, webhook, () => detail(id)),
        button('Rotate secret', async () => {
          const rotated = await api('POST', `${path}/rotate-secret`);
          secretSlot.replaceChildren(secretBox('New signing secret', rotated.secret,
            `It signs from now on; receivers may still accept the previous one until ${time(rotated.previous_secret_expires_at)}.`));
        }, { id: 'webhook-rotate' }),
        button('Delete', async () => {
          if (!await confirmed(`Delete webhook ${webhook.name}? Its queued deliveries are cancelled.`)) return;
          await api('DELETE', path);
          location.hash = '#/webhooks';
        }, { id: 'webhook-delete', class: 'danger' })),
      notice),
    log);
  await log.start();
}
