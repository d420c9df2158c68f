// A stream that stays open: reconnects with backoff when it ends or goes quiet, and says
// what it is doing (connecting, live, reconnecting, unauthorized, forbidden) to onStatus.

import { ApiError, streamLines } from './api.js';

const QUIET_MS = 15000;  // duetd sends a BOOKMARK every 5 s; three missed: the link is dead

export class Follower {
  // path(): the URL to open now (it may carry a resume point); onLine(object) per line.
  constructor(path, onLine, onStatus) {
    this.path = path; this.onLine = onLine; this.onStatus = onStatus;
    this.attempt = 0; this.stopped = false; this.controller = null; this.timer = null;
  }

  start() { this.stopped = false; this.attempt = 0; this.connect(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
  }

  async connect() {
    if (this.stopped) return;
    const controller = this.controller = new AbortController();
    let quiet = setTimeout(() => controller.abort(), QUIET_MS);
    this.onStatus(this.attempt ? 'reconnecting' : 'connecting', { attempt: this.attempt });
    let error = null;
    try {
      await streamLines(this.path(), (line) => {
        clearTimeout(quiet);
        quiet = setTimeout(() => controller.abort(), QUIET_MS);
        this.onLine(line);
        if (this.attempt || !this.live) { this.attempt = 0; this.live = true; this.onStatus('live', {}); }
      }, controller.signal);
      error = new Error('the stream ended');
    } catch (e) {
      error = e;
    }
    clearTimeout(quiet);
    this.live = false;
    if (this.stopped) return;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      this.onStatus(error.status === 401 ? 'unauthorized' : 'forbidden', { message: error.message });
      return;  // start() again once there is a token
    }
    this.attempt += 1;
    const delay = Math.min(1000 * 2 ** (this.attempt - 1), 5000);
    this.onStatus('reconnecting', { attempt: this.attempt, message: error.name === 'AbortError' ? 'no data for 15 s' : error.message, delayMs: delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
