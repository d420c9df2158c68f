// Traffic from the routers' reports (GET /apis/v1/traffic?watch=true): per deployment, one
// line per track and version, for requests/s, error rate, latency p50 / p99 (the whole answer)
// and first byte (TTFT for streams) p50 / p99.

import { h, empty } from './dom.js';
import { chartBox, updateChart, dropChartsExcept } from './charts.js';

const METRICS = [
  ['requestsPerSecond', 'Requests/s', {}],
  ['errorRate', 'Error rate (%)', { unit: '%' }, 100],
  ['p50DurationMs', 'p50 latency, whole answer (ms)', {}],
  ['p99DurationMs', 'p99 latency, whole answer (ms)', {}],
  ['p50FirstByteMs', 'p50 first byte / TTFT (ms)', {}],
  ['p99FirstByteMs', 'p99 first byte / TTFT (ms)', {}],
];

export function renderTraffic(root, state) {
  const windows = state.traffic.windows;
  const labels = windows.map((w) => new Date(w.endMs).toLocaleTimeString());
  const byDeployment = new Map();  // deployment → Set of "track version"
  for (const w of windows)
    for (const item of w.items) {
      if (!byDeployment.has(item.deployment)) byDeployment.set(item.deployment, new Set());
      byDeployment.get(item.deployment).add(item.track + ' ' + (item.version || '(none)'));
    }
  const keep = new Set();
  const sections = [...byDeployment.keys()].sort().map((deployment) => {
    const series = [...byDeployment.get(deployment)].sort();
    const boxes = METRICS.map(([field, title, options, scale = 1]) => {
      const key = `traffic/${deployment}/${field}`;
      keep.add(key);
      const box = chartBox(key, title, options);
      updateChart(key, labels, series.map((label) => ({
        label,
        data: windows.map((w) => {
          const item = w.items.find((i) => i.deployment === deployment && i.track + ' ' + (i.version || '(none)') === label);
          if (!item) return field === 'requestsPerSecond' ? 0 : null;
          return item[field] === null ? null : item[field] * scale;
        }),
      })));
      return box;
    });
    return h('article', { class: 'traffic', data: { traffic: deployment } }, h('h2', {}, deployment),
      h('div', { class: 'charts' }, boxes));
  });
  dropChartsExcept('traffic/', keep);
  if (!sections.length)
    return root.replaceChildren(empty(`No traffic reported in the last ${windows.length * state.traffic.windowSeconds} s (duet-router posts what it routes once a second).`));
  root.replaceChildren(...sections);
}
