// A live room: open its stream and show events as they arrive; post a test message to it.

import { api, roomStream } from './api.js';
import { h, page, field, input, button, guarded, time } from './ui.js';

let socket = null;

/** Closes the stream when the reader leaves the page. */
export function leave() {
  if (socket) socket.close(1000);
  socket = null;
}

function eventItem(event) {
  const sender = event.sender ? (event.sender.display_name || event.sender.fqid) : '?';
  const body = event.content ? (event.content.body ?? JSON.stringify(event.content)) : '';
  return h('li', { test: 'room-event' }, h('time', {}, time(event.ts)), ' ', h('strong', {}, sender), ': ', body,
    h('code', { class: 'muted' }, ` ${event.event_id}`));
}

export function show() {
  const status = h('p', { id: 'room-status', 'aria-live': 'polite' }, 'Not connected.');
  const events = h('ol', { id: 'room-events', class: 'room-events', 'aria-live': 'polite' });
  const roomId = input('room-id', { required: true, placeholder: 'room_…' });
  const open = h('form', { id: 'room-open', class: 'panel' },
    h('div', { class: 'row' }, field('Room id', roomId),
      h('button', { type: 'submit', class: 'primary', id: 'room-connect' }, 'Open stream'),
      button('Close stream', leaveAndSay, { id: 'room-disconnect' }),
      button('New room', async () => {
        const room = await api('POST', '/v1/rooms', { name: 'console room' });
        roomId.value = room.room_id;
      }, { id: 'room-create' })));
  function leaveAndSay() {
    leave();
    status.textContent = 'Not connected.';
  }
  open.addEventListener('submit', (event) => {
    event.preventDefault();
    leave();
    const id = roomId.value.trim();
    status.textContent = `Connecting to ${id}…`;
    const ws = roomStream(id);
    socket = ws;
    ws.addEventListener('open', () => { status.textContent = `Live: events of ${id} appear below as they arrive.`; });
    ws.addEventListener('message', (message) => {
      try {
        events.prepend(eventItem(JSON.parse(message.data)));
      } catch (e) { /* not an event */ }
    });
    ws.addEventListener('close', (closed) => {
      if (socket !== ws) return;
      socket = null;
      status.textContent = closed.code === 1006
        ? 'The stream could not be opened or was cut: check the room id and that the token may read rooms (rooms:read).'
        : `The stream closed (code ${closed.code}${closed.reason ? `: ${closed.reason}` : ''}).`;
    });
  });
  const post = h('form', { id: 'room-post', class: 'panel' },
    h('h2', {}, 'Post a test message'),
    field('Sender', input('room-sender', { value: 'console', required: true })),
    field('Message', input('room-message', { required: true, value: 'Hello from the console' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'room-send' }, 'Post')));
  post.addEventListener('submit', guarded(async (event) => {
    event.preventDefault();
    await api('POST', `/v1/rooms/${encodeURIComponent(roomId.value.trim())}/events`, {
      sender: post.elements['room-sender'].value.trim(),
      content: { msgtype: 'swp.text', body: post.elements['room-message'].value },
    });
  }));
  page('Live room', open, status, events, post);
  roomId.focus();
}
