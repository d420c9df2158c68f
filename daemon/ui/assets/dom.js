// Building the page's elements from data without innerHTML (every string is text, never
// markup: names and messages come from manifests and engines), and the formats the views share.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'data') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity))
    if (child !== null && child !== undefined && child !== false)
      el.append(child instanceof Node ? child : String(child));
  return el;
}

export function age(unixSeconds) {
  if (!unixSeconds) return '';
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unixSeconds));
  if (s < 120) return s + 's';
  if (s < 7200) return Math.floor(s / 60) + 'm';
  if (s < 172800) return Math.floor(s / 3600) + 'h';
  return Math.floor(s / 86400) + 'd';
}

export function bytes(n) {
  if (!n) return '';
  const gib = n / 2 ** 30;
  return gib >= 1 ? gib.toFixed(gib >= 10 ? 0 : 1) + ' GiB' : Math.round(n / 2 ** 20) + ' MiB';
}

export function chip(text, tone) { return h('span', { class: 'chip ' + tone }, text); }

// The tone of a state or phase: good, warn, bad or idle.
export function tone(word) {
  if (['Ready', 'Healthy', 'Passed', 'stable'].includes(word)) return 'good';
  if (['Unhealthy', 'Degraded', 'Aborted', 'Failed', 'Restarting'].includes(word)) return 'bad';
  if (['Pending', 'Starting', 'Unready', 'Progressing', 'Paused', 'Draining', 'Terminating', 'canary'].includes(word)) return 'warn';
  return 'idle';
}

export function table(headers, rows, attrs = {}) {
  return h('table', attrs, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows));
}

export function empty(text) { return h('p', { class: 'empty' }, text); }
