// Calls to the node API from the page: the bearer token (duetd's TCP listener) from this
// tab's sessionStorage, OpenAI-shaped errors read once, NDJSON streams read line by line.

const TOKEN_KEY = 'duet.token';
const MAX_LINE = 32 << 20;  // a watch snapshot of a big node fits; a runaway line does not

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const h = { ...extra };
  if (token()) h.Authorization = 'Bearer ' + token();
  return h;
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function errorMessage(text, status) {
  try { return JSON.parse(text).error.message; } catch { return `HTTP ${status}: ${text.slice(0, 200)}`; }
}

export const seg = encodeURIComponent;

async function open(path, init = {}) {
  let res;
  try {
    res = await fetch(path, { cache: 'no-store', credentials: 'omit', ...init, headers: headers(init.headers) });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'cannot reach the dashboard\'s server');
  }
  if (!res.ok) throw new ApiError(res.status, errorMessage(await res.text(), res.status));
  return res;
}

export async function call(method, path) {
  const res = await open(path, { method });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// Calls onChunk(text) for each piece of the body until it ends (resolves) or fails (throws).
export async function streamText(path, onChunk, signal) {
  const res = await open(path, { signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onChunk(decoder.decode(value, { stream: true }));
  }
}

// Calls onLine(object) for each line of an NDJSON stream.
export async function streamLines(path, onLine, signal) {
  let buffered = '';
  await streamText(path, (text) => {
    buffered += text;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) onLine(JSON.parse(line));
    }
    if (buffered.length > MAX_LINE) throw new Error('a line past 32 MiB');
  }, signal);
}
