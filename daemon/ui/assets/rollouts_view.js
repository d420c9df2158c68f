// Rollouts: the steps with the current one marked, the canary weight over time, each analysis
// metric against its threshold, and Promote / Abort / Retry (app.js confirms and calls).

import { h, chip, tone, table, empty } from './dom.js';
import { chartBox, updateChart, dropChartsExcept } from './charts.js';

function stepText(step) {
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}%`;
  if (step.pause) return step.pause.duration ? `pause ${step.pause.duration}` : 'pause until promoted';
  return JSON.stringify(step);
}

function steps(spec, rollout) {
  const list = (spec.strategy && spec.strategy.canary && spec.strategy.canary.steps) || [];
  const current = rollout.canaryVersion ? rollout.currentStepIndex : -1;
  return h('ol', { class: 'steps' }, list.map((step, i) =>
    h('li', { class: i === current ? 'current' : i < current ? 'done' : '', 'aria-current': i === current ? 'step' : null },
      stepText(step))));
}

function analysisTable(spec, rollout) {
  const a = (spec.strategy && spec.strategy.canary && spec.strategy.canary.analysis) || {};
  const analysis = rollout.analysis || {};
  const last = analysis.last || {};
  const row = (metric, value, threshold, ok) =>
    h('tr', { data: { metric } }, h('th', { scope: 'row' }, metric), h('td', { class: 'num' }, value ?? '—'),
      h('td', { class: 'num' }, threshold ?? '—'),
      h('td', {}, ok === undefined ? '' : chip(ok ? 'ok' : 'failing', ok ? 'good' : 'bad')));
  const rate = last.successRate;
  return table(['Metric', 'Last interval', 'Threshold', ''], [
    row('successRate', rate !== undefined ? rate.toFixed(3) : undefined, a.minSuccessRate !== undefined ? '≥ ' + a.minSuccessRate : undefined,
      rate !== undefined && a.minSuccessRate !== undefined && last.result !== 'Skipped' ? rate >= a.minSuccessRate : undefined),
    row('p99 first byte (ms)', last.p99LatencyMs !== undefined ? last.p99LatencyMs.toFixed(1) : undefined,
      a.maxP99LatencyMs ? '≤ ' + a.maxP99LatencyMs : 'not checked',
      last.p99LatencyMs !== undefined && a.maxP99LatencyMs ? last.p99LatencyMs <= a.maxP99LatencyMs : undefined),
    row('requests', last.requests, a.minRequests !== undefined ? '≥ ' + a.minRequests + ' (else Skipped)' : undefined),
    row('failed intervals', analysis.failures, analysis.failureLimit !== undefined ? '< ' + analysis.failureLimit : undefined,
      analysis.failures !== undefined && analysis.failureLimit !== undefined ? analysis.failures < analysis.failureLimit : undefined),
  ], { class: 'analysis' });
}

// Which actions the API would take now (docs/node-api.md, "Rollouts").
function allowed(rollout) {
  const running = !!rollout.canaryVersion && (rollout.phase === 'Progressing' || rollout.phase === 'Paused');
  const aborted = rollout.phase === 'Aborted' || rollout.phase === 'Degraded';
  return { promote: running && !rollout.promoting, abort: running && !rollout.promoting, retry: aborted };
}

function rolloutCard(d, state, act) {
  const name = d.metadata.name;
  const rollout = (d.status && d.status.rollout) || {};
  const weight = (d.status && d.status.canaryWeight) || 0;
  const can = allowed(rollout);
  const key = 'weight/' + name;
  const box = chartBox(key, 'Canary weight (%)', { max: 100, unit: '%' });
  const history = state.weights.get(name) || [];
  updateChart(key, history.map((p) => new Date(p.t).toLocaleTimeString()),
    [{ label: 'canary weight', data: history.map((p) => p.weight), stepped: true }]);
  const button = (action, label, cls) => h('button', { type: 'button', id: `${action}-${name}`, class: cls,
    disabled: !can[action], onclick: () => act(name, action) }, label);
  return h('article', { class: 'rollout', data: { rollout: name, phase: rollout.phase || '', weight } },
    h('h2', {}, name, ' ', chip(rollout.phase || 'Healthy', tone(rollout.phase || 'Healthy')),
      h('span', { class: 'weight', 'aria-label': 'canary weight' }, `${weight}%`)),
    h('p', { class: 'versions' }, `stable ${rollout.stableVersion || d.spec.version} (${rollout.stableReady ?? 0}/${rollout.stableReplicas ?? 0} ready)`,
      rollout.canaryVersion ? ` → canary ${rollout.canaryVersion} (${rollout.canaryReady ?? 0}/${rollout.canaryReplicas ?? 0} ready)` : ''),
    rollout.message ? h('p', { class: 'message' }, rollout.message) : null,
    h('div', { class: 'rollout-body' },
      h('div', {}, h('h3', {}, 'Steps'), steps(d.spec, rollout)),
      h('div', {}, h('h3', {}, 'Analysis'), analysisTable(d.spec, rollout)),
      box),
    h('div', { class: 'actions' }, button('promote', 'Promote', 'primary'), button('abort', 'Abort', 'danger'),
      button('retry', 'Retry', '')));
}

export function renderRollouts(root, state, act) {
  const canaries = [...state.deployments.values()]
    .filter((d) => d.spec.strategy && d.spec.strategy.type === 'Canary')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  dropChartsExcept('weight/', new Set(canaries.map((d) => 'weight/' + d.metadata.name)));
  if (!canaries.length) return root.replaceChildren(empty('No Canary deployments.'));
  root.replaceChildren(...canaries.map((d) => rolloutCard(d, state, act)));
}
