// Deployments and their replicas: state, restarts, last exit, endpoint, age, the events as a
// timeline, and a replica's log on click (app.js opens it).

import { h, age, chip, tone, table, empty } from './dom.js';

// What a replica's row says: Restarting for one whose process ended and is being started
// again (Pending in CrashLoopBackOff, no pid; `restarts` counts only once it starts), or is
// starting after such an end; else its state.
export function displayState(engine) {
  const backingOff = engine.state === 'Pending' && !engine.pid && engine.lastExit;
  const restarting = engine.state === 'Starting' && engine.restarts > 0;
  return backingOff || restarting ? 'Restarting' : engine.state;
}

// When the replica's process started, from its latest Started or Adopted event (the engine's
// startTime is /proc's clock-ticks-since-boot, kept to tell processes apart, not a date).
function startedAt(engine, events) {
  let at = null;
  for (const e of events || [])
    if (e.object === engine.name && (e.reason === 'Started' || e.reason === 'Adopted')) at = e.lastTimestamp;
  return at && Date.parse(at);
}

function replicaRow(engine, events, openLogs) {
  const shown = displayState(engine);
  return h('tr', { data: { engine: engine.name, state: engine.state, display: shown } },
    h('td', {}, h('button', { type: 'button', class: 'link', id: 'logs-' + engine.name,
      title: 'Follow this replica\'s log', onclick: () => openLogs(engine.name) }, engine.name)),
    h('td', {}, chip(engine.track || 'stable', tone(engine.track)), ' ', engine.version),
    h('td', { class: 'state' }, chip(shown, tone(shown)), engine.message ? h('div', { class: 'message' }, engine.message) : null),
    h('td', { class: 'num' }, engine.restarts),
    h('td', {}, engine.lastExit || '—'),
    h('td', {}, engine.endpoint || '—'),
    h('td', {}, (engine.devices || []).join(', ') || '—'),
    h('td', {}, engine.pid && startedAt(engine, events) ? age(startedAt(engine, events) / 1000) : '—'));
}

function timeline(events) {
  if (!events) return empty('Loading events…');
  if (!events.length) return empty('No events yet.');
  const recent = events.slice(-12).reverse();
  return h('ol', { class: 'timeline', 'aria-label': 'Events, newest first' }, recent.map((e) =>
    h('li', { class: e.type === 'Warning' ? 'warning' : '' },
      h('time', { datetime: e.lastTimestamp }, new Date(e.lastTimestamp).toLocaleTimeString()),
      ' ', h('strong', {}, e.reason), ' ', h('span', { class: 'object' }, e.object),
      e.count > 1 ? h('span', { class: 'count' }, ` ×${e.count}`) : null,
      h('div', { class: 'message' }, e.message))));
}

function deploymentCard(d, state, openLogs) {
  const name = d.metadata.name;
  const status = d.status || {};
  const phase = (status.rollout && status.rollout.phase) || '';
  const engines = [...state.engines.values()].filter((e) => e.deployment === name)
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return h('article', { class: 'deployment', data: { deployment: name } },
    h('h2', {}, name, ' ', phase ? chip(phase, tone(phase)) : null,
      h('small', {}, ` ${d.spec.version || ''} · ${status.readyReplicas ?? 0}/${d.spec.replicas} ready · ${d.spec.runtimeClassName}`)),
    engines.length
      ? table(['Replica', 'Track', 'State', 'Restarts', 'Last exit', 'Endpoint', 'Devices', 'Up'],
        engines.map((e) => replicaRow(e, state.events.get(name), openLogs)), { class: 'replicas' })
      : empty('No replicas.'),
    h('h3', {}, 'Events'), timeline(state.events.get(name)));
}

export function renderDeployments(root, state, openLogs) {
  const deployments = [...state.deployments.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  if (!deployments.length) return root.replaceChildren(empty('No deployments: duetctl apply -f a manifest.'));
  root.replaceChildren(...deployments.map((d) => deploymentCard(d, state, openLogs)));
}
