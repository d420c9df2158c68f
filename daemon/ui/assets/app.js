// The dashboard: one state fed by duetd's watch stream (docs/node-api.md) and the traffic
// stream, the view in the URL's hash rendered from it, and the few calls a user makes.

import { call, seg, setToken, streamText, token } from './api.js';
import { Follower } from './watch.js';
import { renderDevices } from './devices_view.js';
import { renderDeployments } from './deployments_view.js';
import { renderRollouts } from './rollouts_view.js';
import { renderTraffic } from './traffic_view.js';

const WEIGHT_POINTS = 300;
const LOG_CHARS = 200000;

const state = {
  node: '', resourceVersion: 0, stateEpoch: '',
  runtimeclasses: new Map(), deployments: new Map(), routes: new Map(), engines: new Map(), devices: new Map(),
  weights: new Map(),  // deployment → [{ t, weight }], as the stream told
  events: new Map(),   // deployment → its events, fetched when it changes
  traffic: { windowSeconds: 2, windows: [] },
};
const $ = (id) => document.getElementById(id);

// --- the watch stream --------------------------------------------------------------------

const COLLECTIONS = { RuntimeClass: 'runtimeclasses', EngineDeployment: 'deployments', Route: 'routes', Engine: 'engines', Device: 'devices' };

function keyOf(kind, object) {
  if (kind === 'Device') return object.kind + '/' + object.id;
  return kind === 'Engine' ? object.name : object.metadata.name;
}

function noteWeight(d) {
  const name = d.metadata.name;
  const weight = (d.status && d.status.canaryWeight) || 0;
  const points = state.weights.get(name) || [];
  points.push({ t: Date.now(), weight });  // on every change of the deployment: the line reaches now
  state.weights.set(name, points.slice(-WEIGHT_POINTS));
}

function applySnapshot(s) {
  state.node = s.node || '';
  for (const [kind, list] of [['RuntimeClass', s.runtimeclasses], ['EngineDeployment', s.deployments],
    ['Route', s.routes], ['Engine', s.engines], ['Device', s.devices]]) {
    const map = state[COLLECTIONS[kind]];
    map.clear();
    for (const object of list || []) map.set(keyOf(kind, object), object);
  }
  for (const d of state.deployments.values()) noteWeight(d);
  for (const name of state.deployments.keys()) refreshEvents(name);
}

function applyChange(line) {
  const map = state[COLLECTIONS[line.kind]];
  if (!map) return;  // a kind this page does not show
  const key = keyOf(line.kind, line.object);
  if (line.type === 'DELETED') map.delete(key); else map.set(key, line.object);
  if (line.kind === 'EngineDeployment' && line.type !== 'DELETED') noteWeight(line.object);
  const deployment = line.kind === 'Engine' ? line.object.deployment : line.kind === 'EngineDeployment' ? key : null;
  if (deployment) refreshEvents(deployment);
}

function onWatchLine(line) {
  if (line.type === 'SNAPSHOT') applySnapshot(line);
  else if (line.type !== 'BOOKMARK') applyChange(line);
  state.resourceVersion = line.resourceVersion || state.resourceVersion;
  if (line.stateEpoch) state.stateEpoch = line.stateEpoch;
  scheduleRender();
}

function watchPath() {
  if (!state.resourceVersion) return '/apis/v1/watch';
  return `/apis/v1/watch?resourceVersion=${state.resourceVersion}&stateEpoch=${seg(state.stateEpoch)}`;
}

// Events change with their deployment: fetched again (once per burst) when it does.
const eventTimers = new Map();
function refreshEvents(name) {
  clearTimeout(eventTimers.get(name));
  eventTimers.set(name, setTimeout(async () => {
    eventTimers.delete(name);
    if (!state.deployments.has(name)) return state.events.delete(name);
    try {
      state.events.set(name, (await call('GET', `/apis/v1/deployments/${seg(name)}/events`)).items);
      scheduleRender();
    } catch { /* the watch's status says what is wrong */ }
  }, 300));
}

function onTrafficLine(line) {
  if (line.type === 'HISTORY') state.traffic = { windowSeconds: line.windowSeconds, windows: line.windows };
  else if (line.type === 'WINDOW') {
    state.traffic.windows.push(line.window);
    if (state.traffic.windows.length > 150) state.traffic.windows.shift();
  }
  if (currentView() === 'traffic') scheduleRender();
}

// --- connection status ---------------------------------------------------------------------

function showBanner(text) {
  $('banner').hidden = !text;
  $('banner').textContent = text || '';
}

function onStatus(stream) {
  return (status, detail) => {
    const conn = $('conn');
    conn.dataset.status = status;
    document.body.classList.toggle('stale', status !== 'live');
    if (status === 'live') {
      conn.textContent = `live · ${state.node}`;
      showBanner('');
    } else if (status === 'connecting') {
      conn.textContent = 'connecting…';
    } else if (status === 'reconnecting') {
      conn.textContent = `reconnecting (attempt ${detail.attempt})`;
      if (detail.message) showBanner(`The ${stream} stream is down, reconnecting: ${detail.message}. What is shown may be out of date.`);
    } else if (status === 'unauthorized') {
      conn.textContent = 'token needed';
      showBanner(`401: ${detail.message}`);
      $('token-box').hidden = false;
      $('token-input').focus();
    } else if (status === 'forbidden') {
      conn.textContent = 'forbidden';
      showBanner(`403: ${detail.message}. The token needs the duet.read scope.`);
      $('token-box').hidden = false;
    }
  };
}

const watch = new Follower(watchPath, onWatchLine, onStatus('watch'));
const traffic = new Follower(() => '/apis/v1/traffic?watch=true', onTrafficLine, () => {});

// --- rendering -----------------------------------------------------------------------------

const VIEWS = ['devices', 'deployments', 'rollouts', 'traffic'];
function currentView() {
  const v = location.hash.slice(1);
  return VIEWS.includes(v) ? v : 'devices';
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

function render() {
  renderQueued = false;
  const view = currentView();
  const focused = document.activeElement && document.activeElement.id;
  $('node-name').textContent = state.node;
  for (const v of VIEWS) {
    $('view-' + v).hidden = v !== view;
    const tab = document.querySelector(`[data-tab="${v}"]`);
    if (v === view) tab.setAttribute('aria-current', 'page'); else tab.removeAttribute('aria-current');
  }
  const root = $('view-' + view);
  if (view === 'devices') renderDevices(root, state);
  else if (view === 'deployments') renderDeployments(root, state, openLogs);
  else if (view === 'rollouts') renderRollouts(root, state, act);
  else renderTraffic(root, state);
  // A re-render replaces the buttons: keyboard focus stays where it was.
  if (focused && document.activeElement.id !== focused && $(focused)) $(focused).focus();
}

// --- actions -------------------------------------------------------------------------------

function confirmDialog(text) {
  return new Promise((resolve) => {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    const done = (ok) => () => { dialog.close(); resolve(ok); };
    $('confirm-ok').onclick = done(true);
    $('confirm-cancel').onclick = done(false);
    dialog.oncancel = () => resolve(false);  // Esc
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

async function act(name, action) {
  if (!await confirmDialog(`${action[0].toUpperCase() + action.slice(1)} the rollout of ${name}?`)) return;
  try {
    const result = await call('POST', `/apis/v1/deployments/${seg(name)}/rollout/${action}`);
    showBanner('');
    $('conn').dataset.last = `${name} ${result.result}`;
  } catch (e) {
    const why = e.status === 403 ? `refused: this token may not change rollouts (needs duet.write): ${e.message}` : e.message;
    showBanner(`${action} ${name}: ${why}`);
  }
}

let logController = null;
function closeLogs() {
  if (logController) logController.abort();
  logController = null;
  $('logs').hidden = true;
}

async function openLogs(name) {
  closeLogs();
  const controller = logController = new AbortController();
  const text = $('logs-text');
  $('logs-title').textContent = `${name} — log (following)`;
  text.textContent = '';
  $('logs').hidden = false;
  text.focus();
  try {
    await streamText(`/apis/v1/engines/${seg(name)}/logs?follow=true&tailLines=200`, (chunk) => {
      const atEnd = text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
      text.textContent = (text.textContent + chunk).slice(-LOG_CHARS);
      if (atEnd) text.scrollTop = text.scrollHeight;
    }, controller.signal);
    if (logController === controller) $('logs-title').textContent = `${name} — log (ended)`;
  } catch (e) {
    if (e.name !== 'AbortError') $('logs-title').textContent = `${name} — log: ${e.message}`;
  }
}

// --- start ---------------------------------------------------------------------------------

function saveToken() {
  setToken($('token-input').value.trim());
  $('token-input').value = '';
  $('token-box').hidden = true;
  watch.stop(); traffic.stop();
  watch.start(); traffic.start();
}

$('token-save').addEventListener('click', saveToken);
$('token-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') saveToken(); });
$('logs-close').addEventListener('click', closeLogs);
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !$('logs').hidden) closeLogs(); });
window.addEventListener('hashchange', () => {
  if (currentView() === 'deployments') for (const name of state.deployments.keys()) refreshEvents(name);
  scheduleRender();
});
$('token-box').hidden = true;
if (!token()) document.body.dataset.token = 'none';
watch.start();
traffic.start();
scheduleRender();
