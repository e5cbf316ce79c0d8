// The audit log: filter by category, action, resource, user and time; newest first, paged.

import { api } from './api.js';
import { h, page, table, time, field, input, guarded, pager, details, json, CATEGORIES } from './ui.js';

const PAGE = 50;

async function load(filters, cursor) {
  const body = await api('GET', '/v1/admin/audit', null,
    { query: { ...filters, order: 'desc', before: cursor && cursor.before, limit: PAGE } });
  return { items: body.events, next: body.next_before ? { before: body.next_before } : null };
}

function isoOf(local) {
  return local ? new Date(local).toISOString() : '';
}

export function list() {
  const category = h('select', { id: 'audit-category', name: 'category' },
    h('option', { value: '' }, 'any'), CATEGORIES.map((c) => h('option', { value: c }, c)));
  const form = h('form', { id: 'audit-filter', class: 'panel filters', role: 'search' },
    field('Category', category),
    field('Action', input('audit-action', { placeholder: 'bridge.created' })),
    field('Resource id', input('audit-resource', { placeholder: 'brg_…, whk_…, app_…' })),
    field('User id', input('audit-user', { placeholder: 'admin' })),
    field('From', input('audit-since', { type: 'datetime-local', step: 1 })),
    field('Until', input('audit-until', { type: 'datetime-local', step: 1 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'audit-apply' }, 'Apply filters')));
  const filters = () => ({
    category: category.value,
    action: form.elements['audit-action'].value.trim(),
    resource_id: form.elements['audit-resource'].value.trim(),
    user_id: form.elements['audit-user'].value.trim(),
    since: isoOf(form.elements['audit-since'].value),
    until: isoOf(form.elements['audit-until'].value),
  });
  const events = pager('audit', (cursor) => load(filters(), cursor), (rows) => table('audit', [
    ['Time', (e) => time(e.timestamp)],
    ['Category', (e) => h('span', { test: 'audit-category' }, e.category)],
    ['Action', (e) => h('span', { test: 'audit-action' }, e.action)],
    ['User', (e) => e.user_id || '—'],
    ['Application', (e) => e.service_account || '—'],
    ['Resource', (e) => h('code', { test: 'audit-resource' }, e.resource_id || '—')],
    ['Payload', (e) => details('payload', json(e.payload || {}))],
  ], rows, 'No audit events match.'));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    await events.start();
  }));
  page('Audit log', form, events);
  return events.start();
}
