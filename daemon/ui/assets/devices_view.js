// Devices: a card per device, grouped by kind, with health (red with the plugin's reason when
// Unhealthy), topology and the replica that holds it.

import { h, bytes, chip, tone, empty } from './dom.js';

const KINDS = [['ascend', 'Ascend NPUs'], ['nvidia', 'NVIDIA GPUs'], ['mlu', 'Cambricon MLUs'], ['cpu', 'CPUs']];

// kind/id → replica name, from the engines and their deployments' RuntimeClass handlers.
function holders(state) {
  const out = new Map();
  for (const engine of state.engines.values()) {
    const deployment = state.deployments.get(engine.deployment);
    const rc = deployment && state.runtimeclasses.get(deployment.spec.runtimeClassName);
    if (!rc) continue;
    for (const id of engine.devices || []) out.set(rc.handler + '/' + id, engine.name);
  }
  return out;
}

function topology(d) {
  const parts = [];
  for (const [k, v] of Object.entries(d.attributes || {})) parts.push(`${k} ${v}`);
  if (d.numaNode !== null && d.numaNode !== undefined) parts.push('NUMA ' + d.numaNode);
  if (d.pciBusId) parts.push(d.pciBusId);
  return parts.join(' · ');
}

function card(d, holder) {
  const bad = d.health !== 'Healthy';
  return h('article', { class: 'device' + (bad ? ' unhealthy' : ''), data: { device: d.kind + '/' + d.id, health: d.health },
    tabindex: 0, 'aria-label': `${d.kind} ${d.id} ${d.health}` },
    h('h3', {}, `${d.kind}/${d.id}`, ' ', chip(d.health, tone(d.health))),
    h('p', { class: 'model' }, d.model || 'unknown model', d.memoryBytes ? ' · ' + bytes(d.memoryBytes) : ''),
    bad && d.reason ? h('p', { class: 'reason' }, d.reason) : null,
    h('p', { class: 'topology' }, topology(d) || 'no topology data'),
    h('p', { class: 'holder' }, holder ? ['held by ', h('strong', {}, holder)] : 'free'));
}

export function renderDevices(root, state) {
  const held = holders(state);
  const all = [...state.devices.values()];
  if (!all.length) return root.replaceChildren(empty('No devices found on this node.'));
  const groups = KINDS.map(([kind, title]) => {
    const devices = all.filter((d) => d.kind === kind)
      .sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || String(a.id).localeCompare(String(b.id)));
    if (!devices.length) return null;
    const unhealthy = devices.filter((d) => d.health !== 'Healthy').length;
    return h('div', { class: 'kind' },
      h('h2', {}, `${title} `, h('small', {}, `${devices.length} found, ${unhealthy} unhealthy`)),
      h('div', { class: 'cards' }, devices.map((d) => card(d, held.get(d.kind + '/' + d.id)))));
  });
  root.replaceChildren(...groups.filter(Boolean));
}
