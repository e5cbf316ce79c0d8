// The console's router: location.hash names the page (#/bridges, #/bridges/<id>, #/webhooks/new, …).

import { session, clearError, showError, whenUnauthorized, ApiError } from './api.js';
import * as signin from './signin.js';
import * as bridges from './bridges.js';
import * as webhooks from './webhooks.js';
import * as applications from './applications.js';
import * as audit from './audit.js';
import * as room from './room.js';

const ROUTES = [
  [/^\/bridges$/, 'bridges', () => bridges.list()],
  [/^\/bridges\/new$/, 'bridges', () => bridges.create()],
  [/^\/bridges\/([^/]+)$/, 'bridges', (id) => bridges.detail(id)],
  [/^\/webhooks$/, 'webhooks', () => webhooks.list()],
  [/^\/webhooks\/new$/, 'webhooks', () => webhooks.create()],
  [/^\/webhooks\/([^/]+)$/, 'webhooks', (id) => webhooks.detail(id)],
  [/^\/webhooks\/([^/]+)\/edit$/, 'webhooks', (id) => webhooks.edit(id)],
  [/^\/applications$/, 'applications', () => applications.list()],
  [/^\/applications\/new$/, 'applications', () => applications.create()],
  [/^\/applications\/([^/]+)\/edit$/, 'applications', (id) => applications.edit(id)],
  [/^\/api-keys$/, 'api-keys', () => applications.keys()],
  [/^\/audit$/, 'audit', () => audit.list()],
  [/^\/room$/, 'room', () => room.show()],
];

const nav = () => document.getElementById('nav');
const toggle = () => document.getElementById('nav-toggle');

function showNav(signedIn, area) {
  nav().hidden = !signedIn;
  toggle().hidden = !signedIn;
  nav().classList.remove('open');
  toggle().setAttribute('aria-expanded', 'false');
  nav().querySelectorAll('a').forEach((link) => {
    if (link.dataset.area === area) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  });
}

let keepError = false;

async function render() {
  room.leave();
  if (keepError) keepError = false;
  else clearError();
  const path = location.hash.replace(/^#/, '') || '/bridges';
  if (!session.token() || path === '/signin') {
    showNav(Boolean(session.token()), 'signin');
    signin.show();
    return;
  }
  for (const [pattern, area, draw] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      showNav(true, area);
      try {
        await draw(...match.slice(1).map(decodeURIComponent));
      } catch (err) {
        if (!(err instanceof ApiError)) showError(err);
      }
      return;
    }
  }
  showNav(true, '');
  showError(new Error(`There is no console page ${path}.`));
}

whenUnauthorized(() => {
  session.signOut();
  keepError = true;
  if (location.hash === '#/signin') render();
  else location.hash = '#/signin';
});

document.getElementById('sign-out').addEventListener('click', () => {
  session.signOut();
  if (location.hash === '#/signin') render();
  else location.hash = '#/signin';
});

toggle().addEventListener('click', () => {
  const open = nav().classList.toggle('open');
  toggle().setAttribute('aria-expanded', String(open));
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && nav().classList.contains('open')) {
    nav().classList.remove('open');
    toggle().setAttribute('aria-expanded', 'false');
    toggle().focus();
  }
});

window.addEventListener('hashchange', render);

(async () => {
  if (await signin.finishAuthorization()) keepError = !document.getElementById('error').hidden;
  render();
})();
