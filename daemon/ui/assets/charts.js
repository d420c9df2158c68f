// Small line charts (Chart.js from Debian's libjs-chart.js, the global `Chart`): made once per
// key and updated in place, so that a re-render moves the canvas instead of redrawing it.

const charts = new Map();  // key → { box, chart }
const COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#862e9c', '#e8590c', '#0b7285'];

export function chartBox(key, title, { max, unit = '' } = {}) {
  let entry = charts.get(key);
  if (!entry) {
    const box = document.createElement('figure');
    box.className = 'chart';
    const caption = document.createElement('figcaption');
    caption.textContent = title;
    const holder = document.createElement('div');
    holder.className = 'chart-canvas';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title);
    holder.append(canvas);
    box.append(caption, holder);
    const chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true,
        plugins: { legend: { display: true, labels: { boxWidth: 10 } } },
        elements: { point: { radius: 0 }, line: { borderWidth: 2 } },
        scales: {
          x: { ticks: { maxTicksLimit: 4, maxRotation: 0 } },
          y: { beginAtZero: true, max, ticks: { callback: (v) => v + unit } },
        },
      },
    });
    entry = { box, chart };
    charts.set(key, entry);
  }
  return entry.box;
}

// series: [{ label, data: [number|null] }] over `labels`.
export function updateChart(key, labels, series) {
  const entry = charts.get(key);
  if (!entry) return;
  const chart = entry.chart;
  chart.data.labels = labels;
  chart.data.datasets = series.map((s, i) => ({
    label: s.label, data: s.data, stepped: s.stepped || false,
    borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
  }));
  chart.update('none');
}

// Charts whose key is not in `keep` are destroyed (a deployment that went away).
export function dropChartsExcept(prefix, keep) {
  for (const [key, entry] of charts)
    if (key.startsWith(prefix) && !keep.has(key)) { entry.chart.destroy(); charts.delete(key); }
}
