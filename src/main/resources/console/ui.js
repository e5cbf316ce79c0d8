// Small DOM helpers shared by every page: elements, tables, forms, the shown-once secret box,
// the confirmation dialog and a pager over cursors.

import { api, ApiError, showError } from './api.js';

export const SCOPES = ['bridges:read', 'bridges:write', 'rooms:read', 'rooms:write', 'webhooks:read', 'webhooks:write',
  'events:publish', 'audit:read', 'admin:read', 'admin:write'];
export const CATEGORIES = ['AUTHENTICATION', 'AUTHORIZATION', 'FILE_ACCESS', 'FILE_MODIFICATION', 'SHARING', 'ADMIN',
  'SECURITY', 'COMPLIANCE'];

/** h('a', {href: '#/x', onclick: fn}, 'text', child): attributes, listeners (on…) and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'test') el.dataset.test = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function page(title, ...children) {
  const root = document.getElementById('page');
  root.replaceChildren(h('h1', { id: 'page-title' }, title), ...children);
  document.title = `${title} · ScaiRelay`;
  return root;
}

export function time(iso) {
  return iso ? String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

export function stateOf(target) {
  if (target.state) return target.state;
  if (target.deleted_at) return 'deleted';
  return target.paused ? 'paused' : 'active';
}

export function badge(state) {
  return h('span', { class: `badge badge-${state}`, test: 'state' }, state);
}

/** A table in a horizontally scrolling box; columns are [label, row => cell]. */
export function table(test, columns, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'empty', test: `${test}-empty` }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { test },
      h('thead', {}, h('tr', {}, columns.map(([label]) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, rows.map((row) => h('tr', { test: `${test}-row` },
        columns.map(([label, cell]) => h('td', { 'data-label': label }, cell(row))))))));
}

/** A label with its input; {@code id} names both. */
export function field(label, input, hint) {
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('small', {}, hint) : null);
}

export function input(id, attrs = {}) {
  return h('input', { id, name: id, type: 'text', ...attrs });
}

export function checkboxes(legend, name, values, checked = []) {
  return h('fieldset', { class: 'checks', id: `${name}-set` }, h('legend', {}, legend),
    values.map((value) => {
      const id = `${name}-${value.replace(/[^A-Za-z0-9]/g, '-')}`;
      return h('label', { for: id }, h('input', { type: 'checkbox', id, name, value, checked: checked.includes(value) }), ' ', value);
    }));
}

export function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((box) => box.value);
}

/** Lines or commas of a textarea, trimmed, without empty ones. */
export function lines(text) {
  return String(text || '').split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

export function button(label, onclick, attrs = {}) {
  return h('button', { type: 'button', onclick: guarded(onclick), ...attrs }, label);
}

/**
 * Pause or Resume for a bridge or webhook at {@code path} (ids {@code <kind>-pause}, {@code <kind>-resume}),
 * then {@code redraw} to show its new state.
 */
export function pauseToggle(kind, path, target, redraw) {
  const action = target.paused ? 'resume' : 'pause';
  return button(target.paused ? 'Resume' : 'Pause', async () => {
    await api('POST', `${path}/${action}`);
    await redraw();
  }, { id: `${kind}-${action}` });
}

/** Runs an action; an API error is already shown, anything else is shown here. */
export function guarded(action) {
  return async (event) => {
    try {
      await action(event);
    } catch (err) {
      if (!(err instanceof ApiError)) showError(err);
    }
  };
}

/**
 * The box a secret is shown in, once: the page never keeps it, and closing the box forgets it.
 * {@code note} says what else the reader must know (when the old secret stops working).
 */
export function secretBox(label, secret, note) {
  const value = h('code', { id: 'secret-value', test: 'secret-value' }, secret);
  const status = h('span', { class: 'copied', 'aria-live': 'polite', id: 'secret-copied' });
  const box = h('section', { class: 'secret-box', id: 'secret-box', test: 'secret-box', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title' }, `${label}: shown once — copy it now`),
    h('p', {}, 'This is the only time it is shown. It cannot be read again; if it is lost, rotate it.'),
    note ? h('p', { test: 'secret-note' }, note) : null,
    h('div', { class: 'secret-line' }, value),
    h('div', { class: 'actions' },
      button('Copy', () => copy(secret, status), { id: 'secret-copy' }),
      button('I have copied it — close', () => box.remove(), { id: 'secret-close' }),
      status));
  return box;
}

async function copy(text, status) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    status.textContent = 'Copied.';
  } else {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById('secret-value'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    status.textContent = document.execCommand && document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C to copy.';
  }
}

/** A secret handed from the page that made it to the next page drawn, once. */
let onceSecret = null;
export function showOnceNext(label, secret, note) {
  onceSecret = { label, secret, note };
}
export function takeOnce() {
  const held = onceSecret;
  onceSecret = null;
  return held ? secretBox(held.label, held.secret, held.note) : null;
}

/** Asks before something that cannot be undone; Escape and Cancel say no. */
export function confirmed(text, okLabel = 'Delete') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/**
 * Pages through {@code load(cursor) → {items, next}}; {@code draw(items)} draws one page. Keeps the
 * cursors of the pages before, so "Newer" goes back.
 */
export function pager(test, load, draw) {
  const box = h('div', { class: 'pager-box', test });
  const before = [];
  let current = null;
  async function show(cursor) {
    const { items, next } = await load(cursor);
    current = cursor;
    const nav = h('div', { class: 'pager' },
      button('Newer', () => show(before.pop()), { disabled: before.length === 0, test: `${test}-prev` }),
      button('Older', () => { before.push(current); return show(next); }, { disabled: !next, test: `${test}-next` }));
    box.replaceChildren(draw(items), nav);
  }
  box.reload = () => show(current);
  box.start = () => show(null);
  return box;
}

/** A pager's loader over a list the node answers whole, oldest first (applications, API keys): pages of {@code size}, newest first. */
export function slices(oldestFirst, size) {
  const items = [...oldestFirst].reverse();
  return (offset) => {
    const from = offset || 0;
    return { items: items.slice(from, from + size), next: from + size < items.length ? from + size : null };
  };
}

export function details(summary, content) {
  return h('details', {}, h('summary', {}, summary), content);
}

export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
}
