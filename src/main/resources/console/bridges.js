// Bridges: the list with state, transport and counters; a form per transport; the detail page with
// pause/resume, rotate, delete and the delivery log.

import { api } from './api.js';
import {
  h, page, table, time, stateOf, badge, field, input, button, guarded, pager, secretBox, showOnceNext, takeOnce,
  confirmed, dl, pauseToggle,
} from './ui.js';
import { deliveryLog } from './deliveries.js';

const PAGE = 25;

/** What each connector takes besides the common fields (README "Bridge fields"). */
const TRANSPORT_FIELDS = {
  custom: [
    ['outbound_webhook', 'Outbound webhook URL', 'url', 'Where room events are POSTed, signed; required for outbound and both.'],
  ],
  slack: [
    ['slack_team_id', 'Slack team id', 'text', 'The workspace, T…'],
    ['slack_channel_id', 'Slack channel id', 'text', 'C… or G…, not #name'],
    ['slack_signing_secret', 'Slack signing secret', 'password', 'Needed when the bridge accepts inbound.'],
    ['slack_bot_token', 'Slack bot token', 'password', 'xoxb-…; needed when the bridge sends outbound.'],
  ],
  discord: [
    ['discord_webhook_url', 'Discord webhook URL', 'password', 'Outbound and both: https://discord.com/api/webhooks/{id}/{token}'],
    ['discord_bot_token', 'Discord bot token', 'password', 'Inbound and both.'],
    ['discord_channel_id', 'Discord channel id', 'text', 'Inbound (required); both: optional, the webhook\'s channel.'],
  ],
  teams: [
    ['teams_webhook_url', 'Teams workflow URL', 'password', 'Outbound and both: the Workflows trigger URL.'],
    ['teams_outgoing_secret', 'Teams outgoing webhook security token', 'password', 'Inbound and both: base64, from Teams.'],
  ],
};

function counter(bridge, name) {
  const value = (bridge.counters || {})[name];
  return h('span', { test: `counter-${name}` }, value ?? '—');
}

async function loadPage(state, cursor) {
  const body = await api('GET', '/v1/admin/bridges', null, { query: { limit: PAGE, cursor: cursor && cursor.server, state } });
  return { items: body.bridges, next: body.next_cursor ? { server: body.next_cursor } : null };
}

export function list() {
  const stateSelect = h('select', { id: 'bridge-state', name: 'state' },
    ['active', 'paused', 'deleted', 'all'].map((s) => h('option', { value: s }, s)));
  const bridges = pager('bridges', (cursor) => loadPage(stateSelect.value, cursor), (rows) => table('bridges', [
    ['Name', (b) => h('a', { href: `#/bridges/${encodeURIComponent(b.bridge_id)}`, test: 'bridge-link' }, b.name)],
    ['Id', (b) => h('code', {}, b.bridge_id)],
    ['Transport', (b) => b.transport],
    ['Direction', (b) => b.direction],
    ['State', (b) => badge(stateOf(b))],
    ['Inbound accepted', (b) => counter(b, 'inbound_accepted')],
    ['Delivered', (b) => counter(b, 'delivered')],
    ['Failed', (b) => counter(b, 'failed')],
    ['Queued', (b) => counter(b, 'queued')],
    ['Created', (b) => time(b.created_at)],
  ], rows, 'No bridges. Create one to mirror a room with another system.'));
  stateSelect.addEventListener('change', guarded(() => bridges.start()));
  page('Bridges',
    h('div', { class: 'row' },
      h('a', { href: '#/bridges/new', class: 'button primary', id: 'new-bridge' }, 'New bridge'),
      field('Show', stateSelect)),
    bridges);
  return bridges.start();
}

export async function create() {
  let transports = ['custom', 'slack', 'discord', 'teams'];
  try {
    const known = await api('GET', '/v1/admin/transports', null, { quiet: true });
    transports = known.transports.map((t) => t.transport);
  } catch (e) { /* the four built in */ }
  const transport = h('select', { id: 'transport', name: 'transport' }, transports.map((t) => h('option', { value: t }, t)));
  const direction = h('select', { id: 'direction', name: 'direction' },
    ['both', 'inbound', 'outbound'].map((d) => h('option', { value: d }, d)));
  const room = input('room_id', { required: true, placeholder: 'room_…' });
  const sets = Object.entries(TRANSPORT_FIELDS).map(([name, fields]) => h('fieldset', { 'data-transport': name, id: `fields-${name}` },
    h('legend', {}, `${name} settings`),
    fields.map(([id, label, type, hint]) => field(label, input(id, { type, autocomplete: 'off' }), hint))));
  const showFields = () => sets.forEach((set) => { set.hidden = set.dataset.transport !== transport.value; });
  transport.addEventListener('change', showFields);
  const form = h('form', { id: 'bridge-form', class: 'panel', novalidate: true },
    field('Name', input('name', { required: true })),
    field('Transport', transport),
    field('Direction', direction),
    h('div', { class: 'row' },
      field('Room id', room, 'The room this bridge mirrors.'),
      button('New room', async () => {
        const created = await api('POST', '/v1/rooms', { name: form.elements.name.value || 'console room' });
        room.value = created.room_id;
      }, { id: 'new-room' })),
    field('Max in flight', input('max_in_flight', { type: 'number', min: 1, max: 100, placeholder: 'node default (1)' })),
    field('Bridge id (optional)', input('bridge_id', { placeholder: 'brg_…' }), 'Choose the id, e.g. for a Teams outgoing webhook.'),
    sets,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'bridge-submit' }, 'Create bridge'),
      h('a', { href: '#/bridges', class: 'button' }, 'Cancel')));
  form.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    const body = { transport: transport.value, direction: direction.value, room_id: room.value.trim(), name: form.elements.name.value.trim() };
    const max = form.elements.max_in_flight.value;
    if (max) body.max_in_flight = Number(max);
    if (form.elements.bridge_id.value.trim()) body.bridge_id = form.elements.bridge_id.value.trim();
    for (const [id] of TRANSPORT_FIELDS[transport.value] || []) {
      const value = form.elements[id].value.trim();
      if (value) body[id] = value;
    }
    const bridge = await api('POST', '/v1/admin/bridges', body);
    showOnceNext('Shared secret', bridge.shared_secret,
      bridge.transport === 'custom' ? 'It signs inbound calls and outbound deliveries.' : 'This transport does not use it to sign.');
    location.hash = `#/bridges/${encodeURIComponent(bridge.bridge_id)}`;
  }));
  page('New bridge', form);
  showFields();
  form.elements.name.focus();
}

export async function detail(id) {
  const once = takeOnce();
  const bridge = await api('GET', `/v1/admin/bridges/${encodeURIComponent(id)}`);
  const secretSlot = h('div', { id: 'secret-slot' }, once);
  const log = deliveryLog('bridges', id);
  const state = stateOf(bridge);
  const path = `/v1/admin/bridges/${encodeURIComponent(id)}`;
  const facts = { ...bridge };
  ['bridge_id', 'name', 'transport', 'direction', 'room_id', 'paused', 'counters', 'state', 'created_at', 'updated_at', 'max_in_flight']
    .forEach((k) => delete facts[k]);
  page(bridge.name,
    secretSlot,
    h('section', { class: 'panel', 'aria-label': 'Bridge' },
      dl([
        ['Id', h('code', { test: 'bridge-id' }, bridge.bridge_id)],
        ['State', badge(state)],
        ['Transport', bridge.transport],
        ['Direction', bridge.direction],
        ['Room', h('code', {}, bridge.room_id)],
        ['Max in flight', bridge.max_in_flight],
        ['Created', time(bridge.created_at)],
        ['Updated', time(bridge.updated_at)],
        ...Object.entries(facts).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
      ]),
      h('h2', {}, 'Counters'),
      dl(Object.entries(bridge.counters || {}).map(([k, v]) => [k.replace(/_/g, ' '), h('span', { test: `counter-${k}` }, v ?? '—')])),
      state === 'deleted' ? null : h('div', { class: 'actions' },
        pauseToggle('bridge', path, bridge, () => detail(id)),
        button('Rotate secret', async () => {
          const rotated = await api('POST', `${path}/rotate-secret`);
          secretSlot.replaceChildren(secretBox('New shared secret', rotated.shared_secret,
            `The previous secret keeps verifying inbound calls until ${time(rotated.previous_secret_expires_at)}.`));
        }, { id: 'bridge-rotate' }),
        button('Delete', async () => {
          if (!await confirmed(`Delete bridge ${bridge.name} (${bridge.bridge_id})? Its queued deliveries are cancelled.`)) return;
          await api('DELETE', path);
          location.hash = '#/bridges';
        }, { id: 'bridge-delete', class: 'danger' }))),
    log);
  await log.start();
}
