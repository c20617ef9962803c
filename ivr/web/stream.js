// The live stream read with fetch(): EventSource can send no Authorization header,
// and the token must not travel in the URL. Parses Server-Sent Events itself, resumes
// with Last-Event-ID after a break, and retries with a growing delay (1 s … 30 s).

const STALL_MS = 45000; // the server sends a ping every 15 s: three missed, reconnect
const MAX_DELAY_MS = 30000;

export class AuthError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// One SSE event from its lines ("event: x", "data: {...}", "id: 1-0").
function parseEvent(lines) {
  const ev = { event: "message", data: [], id: null };
  for (const line of lines) {
    if (line.startsWith(":")) continue; // a comment (ping)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") ev.event = value;
    else if (field === "data") ev.data.push(value);
    else if (field === "id") ev.id = value;
  }
  return { event: ev.event, data: ev.data.join("\n"), id: ev.id };
}

// The error message of a JSON error answer ({"error": {"message"}}), else the status.
export async function errorMessage(resp) {
  try {
    const body = await resp.json();
    return body?.error?.message || `HTTP ${resp.status}`;
  } catch {
    return `HTTP ${resp.status}`;
  }
}

// Reads `url` with `token` until stop() is called. Callbacks:
//   onEvent(name, data, id)  each event with data (JSON-decoded);
//   onStatus(state, detail)  "connecting" | "live" | "retry" (detail: seconds);
//   onAuth(error)            401/403: the stream stops, the page asks for a token.
export class LiveStream {
  constructor(url, token, { onEvent, onStatus, onAuth }) {
    Object.assign(this, { url, token, onEvent, onStatus, onAuth });
    this.lastId = null;
    this.delay = 1000;
    this.stopped = false;
    this.controller = null;
  }

  start() {
    this.loop();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  // Start again from a fresh snapshot (not from the last event id).
  resync() {
    this.lastId = null;
    this.controller?.abort();
  }

  async loop() {
    while (!this.stopped) {
      try {
        await this.readOnce();
      } catch (err) {
        if (err instanceof AuthError) {
          this.stopped = true;
          this.onAuth(err);
          return;
        }
      }
      if (this.stopped) return;
      this.onStatus("retry", Math.round(this.delay / 1000));
      await new Promise((resolve) => setTimeout(resolve, this.delay));
      this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    }
  }

  async readOnce() {
    this.onStatus("connecting");
    this.controller = new AbortController();
    const headers = { Authorization: `Bearer ${this.token}`, Accept: "text/event-stream" };
    if (this.lastId) headers["Last-Event-ID"] = this.lastId;
    const resp = await fetch(this.url, {
      headers,
      signal: this.controller.signal,
      cache: "no-store",
    });
    if (resp.status === 401 || resp.status === 403) {
      throw new AuthError(resp.status, await errorMessage(resp));
    }
    if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
    await this.readBody(resp.body.getReader());
  }

  async readBody(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    let lines = [];
    let watchdog = null;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => this.controller.abort(), STALL_MS);
    };
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        arm();
        buffer += decoder.decode(value, { stream: true });
        const parts = buffer.split(/\r?\n/);
        buffer = parts.pop();
        for (const line of parts) {
          if (line !== "") {
            lines.push(line);
            continue;
          }
          if (lines.length) this.dispatch(parseEvent(lines));
          lines = [];
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  dispatch({ event, data, id }) {
    if (id) this.lastId = id;
    if (!data) return;
    this.delay = 1000; // an event arrived: the next break starts the backoff again
    this.onStatus("live");
    this.onEvent(event, JSON.parse(data), id);
  }
}
