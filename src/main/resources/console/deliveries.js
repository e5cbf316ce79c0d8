// The delivery log of a bridge or a webhook: newest first, each with its attempts, paged by cursor.

import { api } from './api.js';
import { h, table, time, pager, button } from './ui.js';

const PAGE = 20;

function attempts(delivery) {
  const list = delivery.attempts || [];
  if (!list.length) return 'none yet';
  return h('ol', { class: 'attempts', test: 'attempts' }, list.map((a) => h('li', {},
    `${time(a.at)} · ${a.outcome}`,
    a.status_code != null ? ` · HTTP ${a.status_code}` : '',
    a.latency_ms != null ? ` · ${a.latency_ms} ms` : '',
    a.error ? h('span', { class: 'attempt-error' }, ` · ${a.error}`) : '')));
}

function totals(body) {
  const t = body.totals || {};
  const by = (o) => Object.entries(o || {}).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return h('p', { class: 'totals', test: 'delivery-totals' }, `Deliveries: ${by(t.deliveries)}. Attempts: ${by(t.attempts)}.`);
}

/** {@code kind} is "bridges" or "webhooks". */
export function deliveryLog(kind, id) {
  const summary = h('div');
  const log = pager('deliveries', async (cursor) => {
    const body = await api('GET', `/v1/admin/${kind}/${encodeURIComponent(id)}/deliveries`, null, { query: { limit: PAGE, cursor } });
    summary.replaceChildren(totals(body));
    return { items: body.deliveries || [], next: body.next_cursor };
  }, (rows) => table('deliveries', [
    ['Delivery', (d) => h('span', { test: 'delivery-id' }, d.delivery_id)],
    ['Event', (d) => h('code', {}, d.event_id)],
    ['Status', (d) => h('span', { class: `badge badge-${d.status}`, test: 'delivery-status' }, d.status)],
    ['Response', (d) => h('span', { test: 'delivery-code' }, d.last_status_code ?? '—')],
    ['Attempts', (d) => [String(d.attempt_count ?? (d.attempts || []).length), attempts(d)]],
    ['Next retry', (d) => time(d.next_attempt_at)],
    ['Last error', (d) => d.last_error || '—'],
    ['Updated', (d) => time(d.updated_at)],
  ], rows, 'No deliveries yet.'));
  const section = h('section', { class: 'panel', 'aria-labelledby': 'deliveries-title' },
    h('div', { class: 'row' }, h('h2', { id: 'deliveries-title' }, 'Recent deliveries'),
      button('Refresh', () => log.reload(), { id: 'deliveries-refresh' })),
    summary, log);
  section.start = () => log.start();
  return section;
}
