// The delivery log of a bridge or a webhook: newest first, each with its attempts, paged by cursor;
// resend one delivery, or recover everything that failed since a time.

import { api } from './api.js';
import { h, table, time, pager, button, field, input, guarded } from './ui.js';

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

/** The local time of an hour ago, as a datetime-local input wants it. */
function anHourAgo() {
  const d = new Date(Date.now() - 3600_000);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

/** {@code kind} is "bridges" or "webhooks". */
export function deliveryLog(kind, id) {
  const base = `/v1/admin/${kind}/${encodeURIComponent(id)}`;
  const summary = h('div');
  const notice = h('p', { class: 'notice', id: 'deliveries-notice', 'aria-live': 'polite' });
  const resend = async (d) => {
    const sent = await api('POST', `${base}/deliveries/${encodeURIComponent(d.delivery_id)}/resend`);
    notice.textContent = `Delivery ${d.delivery_id} (${d.status}) queued again as delivery ${sent.delivery_id}.`;
    await log.reload();
  };
  const log = pager('deliveries', async (cursor) => {
    const body = await api('GET', `${base}/deliveries`, null, { query: { limit: PAGE, cursor } });
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
    ['', (d) => (d.status === 'pending' ? '' : button('Resend', () => resend(d), { test: 'delivery-resend' }))],
  ], rows, 'No deliveries yet.'));
  const since = input('recover-since', { type: 'datetime-local', step: 1, value: anHourAgo(), required: true });
  const recover = h('form', { id: 'recover-form', class: 'filters' },
    field('Recover what failed since', since, 'Queues every delivery that failed for good since then again, in order.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'recover-submit' }, 'Recover')));
  recover.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const answer = await api('POST', `${base}/recover`, { since: new Date(since.value).toISOString() });
    notice.textContent = `Recovered ${answer.recovered} failed deliver${answer.recovered === 1 ? 'y' : 'ies'}`
      + (answer.remaining ? `; ${answer.remaining} more remain: recover again for them.` : '.');
    await log.start();
  }));
  const section = h('section', { class: 'panel', 'aria-labelledby': 'deliveries-title' },
    h('div', { class: 'row' }, h('h2', { id: 'deliveries-title' }, 'Recent deliveries'),
      button('Refresh', () => log.reload(), { id: 'deliveries-refresh' })),
    summary, notice, log, recover);
  section.start = () => log.start();
  return section;
}
