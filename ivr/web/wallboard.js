// The wallboard: per queue, callers waiting, the longest wait against the service
// level, agents by state, callbacks, today's figures and the callers in order, kept
// live from GET /api/stream; supervisors act from it with a confirmation.

import {
  duration,
  formatClock,
  formatDate,
  getLang,
  percent,
  reasonLabel,
  setLang,
  t,
  translatePage,
} from "./i18n.js";
import { LiveStream, errorMessage } from "./stream.js";

const TOKEN_KEY = "wallboard.token"; // sessionStorage: gone when the tab closes
const MAX_CALLERS = 10; // callers listed per queue; the rest are counted
const AGENT_STATES = ["available", "ringing", "in_call", "wrapup", "paused", "unavailable"];

const state = {
  token: null,
  me: null,
  reasons: [],
  queues: new Map(),
  hotlines: null, // null: the server has no hotline API; the panel stays hidden
  probes: {}, // hotline id -> its last reachability probe (GET /api/probes, probe.result)
  skew: 0, // server clock minus this browser's, in seconds
  nodes: null, // several Asterisk nodes: [{name, connected}] (the snapshot's), else null
};
let stream = null;
let renderQueued = false;

const $ = (id) => document.getElementById(id);

// ---- small DOM helper: h("div", {class: "x", dataset: {...}}, children...) ----
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const serverNow = () => Date.now() / 1000 + state.skew;
const canAct = () => state.me !== null && state.me.role !== "viewer";
const showNumbers = () => state.me !== null && state.me.role !== "viewer";

// ---- the API ----
class ApiError extends Error {}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(t("network_error"));
  }
  if (resp.status === 401) {
    const message = await errorMessage(resp);
    logout(message);
    throw new ApiError(message);
  }
  if (!resp.ok) {
    const err = new ApiError(await errorMessage(resp));
    err.status = resp.status;
    throw err;
  }
  return resp.json();
}

// ---- login and logout ----
function showLogin(reason) {
  document.body.classList.remove("signed-in");
  $("login").hidden = false;
  $("login-error").textContent = reason || "";
  $("login-error").hidden = !reason;
  $("token").value = "";
  $("token").focus();
}

function logout(reason) {
  stream?.stop();
  stream = null;
  state.token = null;
  state.me = null;
  state.hotlines = null;
  state.probes = {};
  state.reasons = [];
  sessionStorage.removeItem(TOKEN_KEY);
  state.queues.clear();
  render();
  showLogin(reason);
}

async function signIn(token) {
  state.token = token;
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (err) {
    if (state.token) showLogin(err.message);
    return;
  }
  state.me = me;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  document.body.classList.add("signed-in");
  document.body.classList.toggle("viewer", !canAct());
  $("who").textContent = `${me.name || me.id} · ${t(`role_${me.role}`)}`;
  if (canAct()) loadReasons();
  loadHotlines();
  stream = new LiveStream("/api/stream", token, {
    onEvent,
    onStatus: showStatus,
    onAuth: (err) => logout(err.message),
  });
  stream.start();
}

async function loadReasons() {
  try {
    state.reasons = (await api("GET", "/api/pause-reasons")).pause_reasons;
  } catch {
    state.reasons = [];
  }
}

let hotlinesTimer = null;
function loadHotlinesSoon() {
  clearTimeout(hotlinesTimer);
  hotlinesTimer = setTimeout(loadHotlines, 200);
}

async function loadHotlines() {
  try {
    state.hotlines = (await api("GET", "/api/hotlines")).hotlines;
  } catch {
    state.hotlines = null; // 404 (no hotline API on this server) or refused: no panel
  }
  try {
    for (const p of (await api("GET", "/api/probes?limit=1")).probes) {
      if (p.last) state.probes[p.hotline] = p.last;
    }
  } catch {
    // no probes on this server: no badge
  }
  scheduleRender();
}

let lastStatus = ["connecting", 0];
function showStatus(status, seconds) {
  lastStatus = [status, seconds];
  const el = $("status");
  el.dataset.state = status;
  el.textContent =
    status === "live" ? t("live") : status === "retry" ? t("reconnecting", { s: seconds }) : t("connecting");
}

// ---- the model, from the snapshot and each change ----
function byKey(list, key) {
  return new Map((list || []).map((item) => [item[key], item]));
}

function applySnapshot(snap) {
  state.queues.clear();
  for (const q of snap.queues || []) {
    state.queues.set(q.name, {
      ...q,
      callers: byKey(q.callers, "uniqueid"),
      members: byKey(q.members || q.agents, "interface"),
      callbacks: byKey(q.callbacks, "id"),
    });
    for (const c of q.callers || []) {
      state.skew = c.arrived_at + c.wait_s - Date.now() / 1000;
    }
  }
  if (Array.isArray(snap.hotlines)) state.hotlines = snap.hotlines;
  state.nodes = Array.isArray(snap.nodes) ? snap.nodes : null;
}

// A node's AMI went down (its queues no longer change: dropped now) or came back;
// either way a fresh snapshot follows.
function onNode(name, node) {
  if (name === "node.down") {
    for (const q of [...state.queues.keys()]) if (q.endsWith(`@${node}`)) state.queues.delete(q);
  }
  for (const n of state.nodes || []) if (n.name === node) n.connected = name === "node.up";
  stream?.resync();
}

function queueOf(name) {
  if (!state.queues.has(name)) {
    state.queues.set(name, {
      name,
      callers: new Map(),
      members: new Map(),
      callbacks: new Map(),
      today: null,
    });
  }
  return state.queues.get(name);
}

const HANDLERS = {
  "caller.joined": (q, d) => q.callers.set(d.uniqueid, d),
  "caller.state": (q, d) => q.callers.set(d.uniqueid, { ...q.callers.get(d.uniqueid), ...d }),
  "caller.left": (q, d) => q.callers.delete(d.uniqueid),
  "caller.place": (q, d) => {
    for (const m of d.moved || []) {
      const c = q.callers.get(m.uniqueid);
      if (c) c.place = m.place;
    }
  },
  "agent.state": (q, d) => q.members.set(d.interface, { ...q.members.get(d.interface), ...d }),
  "agent.removed": (q, d) => q.members.delete(d.interface),
  "callback.requested": (q, d) => q.callbacks.set(d.id, d),
  "callback.retry": (q, d) => q.callbacks.set(d.id, d),
  "callback.dialling": (q, d) => q.callbacks.set(d.id, d),
  "callback.moved": (q, d) => q.callbacks.set(d.id, { ...q.callbacks.get(d.id), ...d }),
  "callback.connected": (q, d) => q.callbacks.delete(d.id),
  "callback.failed": (q, d) => q.callbacks.delete(d.id),
  "callback.cancelled": (q, d) => q.callbacks.delete(d.id),
  figures: (q, d) => {
    q.today = d;
  },
  "queue.closed": (q) => {
    q.open = false;
    loadHotlinesSoon();
  },
  "queue.opened": (q) => {
    q.open = true;
    loadHotlinesSoon();
  },
};

// With several Asterisk nodes a queue is shown on each node ("complaint@a"); what
// belongs to the queue on every node (callbacks, today's figures, overrides) comes
// under its plain name and goes to each of them.
function queuesOf(name) {
  if (state.queues.has(name) || name.includes("@")) return [queueOf(name)];
  const onNodes = [...state.queues.values()].filter((q) => q.name.split("@")[0] === name);
  return onNodes.length ? onNodes : [queueOf(name)];
}

function onEvent(name, body) {
  if (name === "snapshot") {
    applySnapshot(body);
  } else if (HANDLERS[name] && body.queue) {
    for (const q of queuesOf(body.queue)) HANDLERS[name](q, body.data || {});
  } else if ((name === "node.down" || name === "node.up") && body.data?.node) {
    onNode(name, body.data.node);
  } else if (name === "probe.result" && body.data?.hotline) {
    state.probes[body.data.hotline] = body.data;
  } else if (name.startsWith("hotline.") || name.startsWith("emergency.")) {
    loadHotlinesSoon();
  }
  scheduleRender();
}

// ---- rendering ----
// The board is rebuilt on each change; not while a button is being pressed (the
// click would land on a replaced node), and the focused button keeps its focus.
let pointerDown = false;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (pointerDown) renderQueued = true;
    else render();
  });
}

function focusKey(el) {
  if (!(el instanceof HTMLElement) || !el.dataset.action) return null;
  const d = el.dataset;
  return `button[data-action="${d.action}"][data-key="${CSS.escape(d.key || "")}"]`;
}

// green / amber / red of a wait against the queue's service-level time
function waitLevel(seconds, slSeconds) {
  if (seconds <= 0) return "idle";
  if (seconds <= slSeconds / 2) return "ok";
  return seconds <= slSeconds ? "warn" : "bad";
}

// green / amber / red of today's service level against its target
function slLevel(ratio, target) {
  if (ratio === null || ratio === undefined) return "idle";
  if (ratio >= target) return "ok";
  return ratio >= target - 0.1 ? "warn" : "bad";
}

function targets(q) {
  const today = q.today || {};
  return { slS: today.service_level_s ?? 30, target: today.service_level_target ?? 0.8 };
}

function longestArrival(q) {
  let first = null;
  for (const c of q.callers.values()) {
    if (first === null || c.arrived_at < first) first = c.arrived_at;
  }
  return first;
}

function tile(label, value, extra = {}) {
  return h(
    "div",
    { class: `tile ${extra.class || ""}`, dataset: extra.dataset },
    h("div", { class: "tile-value", dataset: extra.valueData }, value),
    h("div", { class: "tile-label" }, label),
    extra.note ? h("div", { class: "tile-note" }, extra.note) : null,
  );
}

function headlineTiles(q) {
  const { slS, target } = targets(q);
  const first = longestArrival(q);
  const wait = first === null ? 0 : serverNow() - first;
  const today = q.today || {};
  return h(
    "div",
    { class: "tiles" },
    tile(t("waiting"), q.callers.size, { class: `level-${waitLevel(wait, slS)}`, dataset: { wait: first ?? "", sl: slS } }),
    tile(t("longest"), first === null ? "0:00" : duration(wait), {
      class: `level-${waitLevel(wait, slS)}`,
      dataset: { wait: first ?? "", sl: slS },
      valueData: first === null ? null : { since: first },
    }),
    tile(t("service_level"), percent(today.service_level), {
      class: `level-${slLevel(today.service_level, target)}`,
      note: t("sl_rule", { s: slS, p: percent(target) }),
    }),
  );
}

function agentChips(q) {
  const counts = Object.fromEntries(AGENT_STATES.map((s) => [s, 0]));
  for (const a of q.members.values()) counts[a.state] = (counts[a.state] || 0) + 1;
  return h(
    "div",
    { class: "chips" },
    AGENT_STATES.map((s) =>
      h("span", { class: `chip agent-${s}` }, h("b", {}, counts[s]), h("span", {}, t(`s_${s}`))),
    ),
  );
}

function agentRow(q, a) {
  const paused = a.state === "paused";
  const held = (a.paused_reason || "").startsWith("ivr-callback:");
  const action =
    canAct() && !held
      ? h(
          "button",
          {
            class: paused ? "act unpause" : "act pause",
            type: "button",
            dataset: {
              action: paused ? "unpause" : "pause",
              queue: q.name,
              agent: a.interface,
              key: `${q.name}|${a.interface}`,
            },
          },
          paused ? t("unpause") : t("pause"),
        )
      : null;
  return h(
    "li",
    { class: `agent agent-${a.state}`, dataset: { agent: a.interface } },
    h("span", { class: "dot" }),
    h("span", { class: "agent-name" }, a.name || a.interface),
    h(
      "span",
      { class: "agent-state" },
      t(`s_${a.state}`),
      paused && a.paused_reason ? ` · ${reasonLabel(a.paused_reason)}` : "",
    ),
    h("span", { class: "agent-since", dataset: a.since ? { since: a.since } : {} }, a.since ? duration(serverNow() - a.since) : ""),
    action,
  );
}

function callerRow(q, c) {
  return h(
    "li",
    { class: `caller caller-${c.state}`, dataset: { uniqueid: c.uniqueid } },
    h("span", { class: "place" }, c.place ?? "·"),
    h("span", { class: "caller-wait", dataset: { since: c.arrived_at } }, duration(serverNow() - c.arrived_at)),
    h("span", { class: "caller-state" }, t(`c_${c.state}`)),
    h("span", { class: "caller-topic" }, c.topic || ""),
    showNumbers() && c.number ? h("span", { class: "number" }, c.number) : null,
  );
}

function callerList(q) {
  const callers = [...q.callers.values()].sort(
    (a, b) => (a.place ?? 1e9) - (b.place ?? 1e9) || a.arrived_at - b.arrived_at,
  );
  const shown = callers.slice(0, MAX_CALLERS);
  return h(
    "section",
    { class: "panel callers" },
    h("h3", {}, t("callers")),
    callers.length
      ? h("ol", { class: "rows" }, shown.map((c) => callerRow(q, c)))
      : h("p", { class: "empty" }, t("no_callers")),
    callers.length > MAX_CALLERS
      ? h("p", { class: "more" }, t("more", { n: callers.length - MAX_CALLERS }))
      : null,
  );
}

function agentList(q) {
  const order = (a) => AGENT_STATES.indexOf(a.state);
  const agents = [...q.members.values()].sort(
    (a, b) => order(a) - order(b) || (a.name || a.interface).localeCompare(b.name || b.interface),
  );
  return h(
    "section",
    { class: "panel agents" },
    h("h3", {}, t("agents")),
    h("ul", { class: "rows" }, agents.map((a) => agentRow(q, a))),
  );
}

function callbackRow(q, cb) {
  const pending = cb.status === "pending";
  return h(
    "li",
    { class: `callback cb-${cb.status}`, dataset: { callback: cb.id } },
    h("span", { class: "cb-status" }, t(`cb_${cb.status}`)),
    showNumbers() && cb.number ? h("span", { class: "number" }, cb.number) : null,
    h("span", { class: "cb-attempts" }, cb.attempts ? `×${cb.attempts}` : ""),
    canAct() && pending
      ? h(
          "button",
          {
            class: "act cancel",
            type: "button",
            dataset: {
              action: "cancel",
              queue: q.name,
              callback: cb.id,
              number: showNumbers() ? cb.number || "" : "",
              key: cb.id,
            },
          },
          t("cancel_cb"),
        )
      : null,
  );
}

function callbackList(q) {
  const cbs = [...q.callbacks.values()];
  const count = (s) => cbs.filter((cb) => cb.status === s).length;
  return h(
    "section",
    { class: "panel callbacks" },
    h(
      "h3",
      {},
      t("callbacks"),
      h("span", { class: "counts" }, `${t("cb_pending")} ${count("pending")} · ${t("cb_dialing")} ${count("dialing")}`),
    ),
    cbs.length
      ? h("ul", { class: "rows" }, cbs.slice(0, MAX_CALLERS).map((cb) => callbackRow(q, cb)))
      : h("p", { class: "empty" }, t("no_callbacks")),
  );
}

function todayFigures(q) {
  const d = q.today;
  if (!d) return null;
  const fig = (label, value) => h("div", { class: "fig" }, h("b", {}, value), h("span", {}, label));
  return h(
    "section",
    { class: "today" },
    h("h3", {}, t("today")),
    h(
      "div",
      { class: "figs" },
      fig(t("offered"), d.offered ?? 0),
      fig(t("answered"), d.answered ?? 0),
      fig(t("abandoned"), d.abandoned ?? 0),
      fig(t("short_abandoned"), d.short_abandoned ?? 0),
      fig(t("asa"), duration(d.asa_s)),
      fig(t("aht"), duration(d.aht_s)),
      fig(t("callbacks_failed"), d.callbacks_failed ?? 0),
    ),
  );
}

function queueCard(q) {
  return h(
    "article",
    { class: `queue${q.open === false ? " closed" : ""}`, dataset: { queue: q.name } },
    h(
      "header",
      {},
      h("h2", {}, q.display_name || q.name),
      q.open === false ? h("span", { class: "badge bad" }, t("closed")) : null,
      overrideNote(q.override),
    ),
    headlineTiles(q),
    agentChips(q),
    h("div", { class: "columns" }, callerList(q), agentList(q)),
    h("div", { class: "columns" }, callbackList(q), todayFigures(q)),
  );
}

// "closed by a supervisor" / "opened outside hours": an override of the business hours
function overrideNote(override) {
  if (override !== "closed" && override !== "open") return null;
  return h("span", { class: "override" }, t(`override_${override}`));
}

// The last reachability probe of a hotline: a small badge (ok, or what failed).
function probeBadge(id) {
  const p = state.probes[id];
  if (!p) return null;
  const secs = p.answer_s == null ? "" : ` · ${t("probe_answer", { s: p.answer_s.toFixed(1) })}`;
  return h(
    "span",
    { class: `badge probe ${p.ok ? "ok" : "bad"}`, dataset: { outcome: p.outcome }, title: `${t("probe_at")} ${formatClock(new Date(p.at * 1000))}` },
    `${t(`probe_${p.outcome}`)}${secs}`,
  );
}

function hotlineCard(hl) {
  const em = hl.emergency;
  const actions = canAct()
    ? h(
        "div",
        { class: "hl-actions" },
        h("button", { class: "act emergency", type: "button", dataset: { action: "emergency", hotline: hl.id, key: hl.id } }, t("set_emergency")),
        em
          ? h("button", { class: "act clear", type: "button", dataset: { action: "clear", hotline: hl.id, key: hl.id } }, t("clear_emergency"))
          : null,
      )
    : null;
  return h(
    "article",
    { class: `hotline${em ? " has-emergency" : ""}`, dataset: { hotline: hl.id } },
    h("h2", {}, hl.name || hl.id),
    h("span", { class: `badge ${hl.open ? "ok" : "bad"}` }, hl.open ? t("open") : t("closed")),
    overrideNote(hl.override),
    probeBadge(hl.id),
    h("p", { class: "hl-emergency" }, em ? `${t("emergency")}: ${em.text || em.prompt}` : t("no_emergency")),
    actions,
  );
}

function render() {
  const focused = focusKey(document.activeElement);
  renderBoard();
  if (focused) document.querySelector(focused)?.focus();
}

// Several Asterisk nodes: each node up or down, and each queue's callers over all
// nodes ("complaint 12 (a 7 · b 5)"), counted from the nodes' queues as they change.
function nodesStrip() {
  if (!state.nodes) return [];
  const totals = new Map();
  for (const q of state.queues.values()) {
    const [name, node] = q.name.split("@");
    if (!node) continue;
    const total = totals.get(name) || { waiting: 0, parts: [] };
    total.waiting += q.callers.size;
    total.parts.push(`${node} ${q.callers.size}`);
    totals.set(name, total);
  }
  const badges = state.nodes.map((n) =>
    h("span", { class: `badge ${n.connected ? "ok" : "bad"}` }, `${t("node")} ${n.name}: ${t(n.connected ? "node_up" : "node_down")}`),
  );
  const sums = [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => h("span", { class: "node-total" }, `${name}: ${t("waiting_all", { n: s.waiting })} (${s.parts.join(" · ")})`));
  return [h("section", { class: "nodes", dataset: { nodes: String(state.nodes.length) } }, ...badges, ...sums)];
}

function renderBoard() {
  const board = $("board");
  const queues = [...state.queues.values()].sort((a, b) => a.name.localeCompare(b.name));
  board.replaceChildren(
    ...nodesStrip(),
    ...(queues.length || !state.me ? queues.map(queueCard) : [h("p", { class: "empty" }, t("no_queues"))]),
  );
  board.dataset.count = String(Math.min(queues.length, 4));
  const panel = $("hotlines");
  panel.hidden = !state.me || !Array.isArray(state.hotlines) || state.hotlines.length === 0;
  if (!panel.hidden) panel.replaceChildren(...state.hotlines.map(hotlineCard));
}

// Each second: the clock, and every running duration (waits, agents' time in state).
function tick() {
  const now = new Date();
  $("date").textContent = formatDate(now);
  $("clock").textContent = formatClock(now);
  const server = serverNow();
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = duration(server - Number(el.dataset.since));
  }
  for (const el of document.querySelectorAll("[data-wait]")) {
    const wait = el.dataset.wait ? server - Number(el.dataset.wait) : 0;
    el.classList.remove("level-idle", "level-ok", "level-warn", "level-bad");
    el.classList.add(`level-${waitLevel(wait, Number(el.dataset.sl))}`);
  }
}

// ---- actions, each behind the confirmation dialog ----
let pending = null; // {run(choice, all)} of the open dialog

function ask({ message, choices = null, choiceLabel = "", allQueues = false, run }) {
  const dialog = $("confirm");
  $("confirm-message").textContent = message;
  $("confirm-choice-label").textContent = choiceLabel;
  const select = $("confirm-choice");
  $("confirm-choice-row").hidden = !choices;
  select.replaceChildren(...(choices || []).map(([value, label]) => h("option", { value }, label)));
  $("confirm-all-row").hidden = !allQueues;
  $("confirm-all").checked = false;
  $("confirm-error").hidden = true;
  $("confirm-ok").disabled = false;
  pending = { run };
  dialog.showModal();
}

async function confirmed() {
  if (!pending) return;
  const ok = $("confirm-ok");
  ok.disabled = true;
  try {
    await pending.run($("confirm-choice").value, $("confirm-all").checked);
    $("confirm").close();
    pending = null;
    toast(t("done"));
  } catch (err) {
    $("confirm-error").textContent = `${t("error")}: ${err.message}`;
    $("confirm-error").hidden = false;
    ok.disabled = false;
  }
}

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    el.hidden = true;
  }, 2500);
}

const enc = encodeURIComponent;

function agentLabel(queue, agent) {
  const a = state.queues.get(queue)?.members.get(agent);
  return a?.name || agent;
}

const ACTIONS = {
  pause: ({ queue, agent }) =>
    ask({
      message: t("confirm_pause", { a: agentLabel(queue, agent), q: queue }),
      choices: state.reasons.map((r) => [r, reasonLabel(r)]),
      choiceLabel: t("reason"),
      allQueues: true,
      run: (reason, all) =>
        api("POST", all ? `/api/agents/${enc(agent)}/pause` : `/api/queues/${enc(queue)}/agents/${enc(agent)}/pause`, { reason }),
    }),
  unpause: ({ queue, agent }) =>
    ask({
      message: t("confirm_unpause", { a: agentLabel(queue, agent), q: queue }),
      allQueues: true,
      run: (_reason, all) =>
        api("POST", all ? `/api/agents/${enc(agent)}/unpause` : `/api/queues/${enc(queue)}/agents/${enc(agent)}/unpause`),
    }),
  cancel: ({ queue, callback, number }) =>
    ask({
      message: t("confirm_cancel", { n: number || callback, q: queue }),
      run: () => api("DELETE", `/api/callbacks/${enc(callback)}`),
    }),
  emergency: ({ hotline }) => {
    const hl = (state.hotlines || []).find((x) => x.id === hotline);
    ask({
      message: t("confirm_emergency", { h: hl?.name || hotline }),
      choices: (hl?.emergency_prompts || []).map((p) => [p.prompt, p.text || p.prompt]),
      choiceLabel: t("prompt"),
      run: async (prompt) => {
        await api("PUT", `/api/hotlines/${enc(hotline)}/emergency`, { prompt });
        loadHotlinesSoon();
      },
    });
  },
  clear: ({ hotline }) => {
    const hl = (state.hotlines || []).find((x) => x.id === hotline);
    ask({
      message: t("confirm_clear", { h: hl?.name || hotline }),
      run: async () => {
        await api("DELETE", `/api/hotlines/${enc(hotline)}/emergency`);
        loadHotlinesSoon();
      },
    });
  },
};

function onClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button || !canAct()) return;
  ACTIONS[button.dataset.action]?.(button.dataset);
}

// ---- start ----
function applyLang() {
  translatePage();
  $("lang").textContent = t("lang_switch");
  if (state.me) $("who").textContent = `${state.me.name || state.me.id} · ${t(`role_${state.me.role}`)}`;
  document.title = `${t("title")} · ${t("subtitle")}`;
  showStatus(...lastStatus);
  render();
  tick();
}

function init() {
  setLang(getLang());
  applyLang();
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (token) signIn(token);
  });
  $("logout").addEventListener("click", () => logout(""));
  $("lang").addEventListener("click", () => {
    setLang(getLang() === "th" ? "en" : "th");
    applyLang();
  });
  $("board").addEventListener("click", onClick);
  document.addEventListener("pointerdown", () => {
    pointerDown = true;
  });
  const released = () => {
    pointerDown = false;
    if (renderQueued) {
      renderQueued = false;
      scheduleRender();
    }
  };
  document.addEventListener("pointerup", released);
  document.addEventListener("pointercancel", released);
  $("hotlines").addEventListener("click", onClick);
  $("confirm-ok").addEventListener("click", confirmed);
  $("confirm-cancel").addEventListener("click", () => {
    pending = null;
    $("confirm").close();
  });
  setInterval(tick, 1000);
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
  else showLogin("");
}

init();
