/**
 * The dashboard page's script: draws the fleet from the `state` events of /api/stream, each
 * bot's last hour from /api/history (uPlot charts), and acts (restart, stop or start a bot, stop
 * a CLI child after a confirmation, talk and tap buttons in the sandbox chat) through /api/… with
 * the session's CSRF token. Plain browser JavaScript, no framework, no build step. Every piece of
 * data reaches the page through textContent or attributes, never as HTML.
 */

const CSRF_HEADER = 'x-botvisor-csrf';
const LOG_LINES = 200;
const LOG_REFRESH_MS = 3000;
const CHAT_WAIT_MS = 20000;
/** How long a "Confirm …" button waits for its second click. */
const CONFIRM_MS = 4000;

const app = {
  /** @type {{ csrfToken: string, readOnly: boolean, readOnlyReason: string | null, sandbox: null | { bot: string | null, user: { id: number, first_name: string }, chatId: number } } | null} */
  session: null,
  /** name → card parts */
  cards: new Map(),
  cardCount: 0,
  /** keys of the events already listed */
  seenEvents: new Set(),
};

// ---------------------------------------------------------------- helpers

const byId = (id) => document.getElementById(id);

/** Builds an element; strings become text nodes, so nothing is ever parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 24) return `${hrs}h ${m % 60}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

function ago(iso) {
  const ms = Date.now() - Date.parse(iso);
  return Number.isFinite(ms) ? `${duration(Math.max(0, ms))} ago` : iso;
}

function bytes(n) {
  if (!n) return '—';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour12: false });
}

function describeExit(e) {
  if (!e) return 'none';
  const how = e.signal ? e.signal : `code ${e.code}`;
  return `${e.cause} (${how}) · ${ago(e.at)}`;
}

function exitIsBad(e) {
  return Boolean(e) && !(e.cause === 'exit' && (e.code === 0 || e.code === 42));
}

let toastTimer;
function toast(message, isError = false) {
  const box = byId('toast');
  box.replaceChildren(h('p', { class: isError ? 'error' : '', text: message }));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.replaceChildren(), isError ? 8000 : 4000);
}

/**
 * A destructive button asks once more: the first click turns it into "Confirm …", a second click
 * within CONFIRM_MS does it; otherwise it goes back to what it was.
 */
function confirmThen(button, question, action) {
  if (button.dataset.confirming === 'true') {
    clearTimeout(Number(button.dataset.confirmTimer));
    delete button.dataset.confirming;
    void action();
    return;
  }
  const label = button.textContent;
  button.dataset.confirming = 'true';
  button.textContent = question;
  button.dataset.confirmTimer = String(
    setTimeout(() => {
      delete button.dataset.confirming;
      button.textContent = label;
    }, CONFIRM_MS),
  );
}

// ---------------------------------------------------------------- API

async function loadSession() {
  const response = await fetch('/api/session', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`the dashboard session could not start (HTTP ${response.status})`);
  app.session = await response.json();
  applyMode();
}

/** POST with the session token; a stale token (supervisor restarted) is renewed once. */
async function post(path, body, renewed = false) {
  const headers = { [CSRF_HEADER]: app.session?.csrfToken ?? '' };
  const init = { method: 'POST', credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (response.status === 403 && data.code === 'csrf' && !renewed) {
    await loadSession();
    return post(path, body, true);
  }
  if (!response.ok) throw new Error(data.error ?? `HTTP ${response.status}`);
  return data;
}

function applyMode() {
  const s = app.session;
  const readOnly = Boolean(s?.readOnly);
  byId('mode').hidden = !readOnly;
  const note = byId('readonly-note');
  note.hidden = !readOnly;
  note.textContent = readOnly ? `${s.readOnlyReason ?? 'read-only'}. Actions are off.` : '';
  document.body.classList.toggle('read-only', readOnly);
  for (const card of app.cards.values()) {
    card.restart.hidden = readOnly;
    card.power.hidden = readOnly;
  }
  const chat = byId('chat');
  chat.hidden = !s?.sandbox;
  if (s?.sandbox) {
    const who = byId('chat-who');
    who.replaceChildren('You are ', h('strong', { text: s.sandbox.user.first_name }), ' (a simulated user), talking to ', h('strong', { text: s.sandbox.bot ?? 'the sandbox bot' }), '.');
    for (const el of byId('chat-form').elements) el.disabled = readOnly;
    startChat();
  }
}

// ---------------------------------------------------------------- live state

function setConnection(live) {
  const pill = byId('connection');
  pill.className = `pill ${live ? 'pill-live' : 'pill-connecting'}`;
  pill.textContent = live ? 'live' : 'reconnecting…';
}

function connect() {
  const source = new EventSource('/api/stream');
  source.addEventListener('state', (event) => {
    setConnection(true);
    render(JSON.parse(event.data));
  });
  source.addEventListener('error', () => {
    setConnection(false);
    // EventSource retries by itself unless the server refused outright (e.g. 401); then try again later.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

function render(state) {
  renderSummary(state);
  renderBots(state);
  renderLocks(state);
  renderEvents(state);
  byId('supervisor-facts').textContent = `Supervisor pid ${state.supervisor.pid} · up ${duration(state.supervisor.uptimeMs)} · started ${new Date(state.supervisor.startedAt).toLocaleString()} · data ${state.supervisor.dataDir}`;
}

function renderSummary(state) {
  const counts = {};
  for (const b of state.bots) counts[b.state] = (counts[b.state] ?? 0) + 1;
  const parts = [h('strong', { text: `${state.bots.length} bot${state.bots.length === 1 ? '' : 's'}` })];
  for (const name of ['ready', 'starting', 'stopping', 'backoff', 'waiting', 'errored', 'stopped']) if (counts[name]) parts.push(` · ${counts[name]} ${name}`);
  const troubled = state.bots.filter((b) => b.problem).length;
  if (troubled) parts.push(` · ${troubled} with a problem`);
  byId('fleet-summary').replaceChildren(...parts);
  const bad = Math.max((counts.errored ?? 0) + (counts.backoff ?? 0), troubled);
  document.title = bad > 0 ? `(${bad} down) botvisor dashboard` : 'botvisor dashboard';
}

// ---------------------------------------------------------------- bot cards

function createCard(bot) {
  const n = ++app.cardCount;
  const fact = (label, field, wide = false) => {
    const dd = h('dd', { 'data-field': field });
    return { wrap: h('div', { class: wide ? 'wide' : '' }, h('dt', { text: label }), dd), dd };
  };
  const facts = {
    pid: fact('PID', 'pid'),
    uptime: fact('Uptime', 'uptime'),
    restarts: fact('Restarts', 'restarts'),
    cpu: fact('CPU', 'cpu'),
    memory: fact('Memory', 'memory'),
    polling: fact('Polling', 'polling'),
    lastExit: fact('Last exit', 'last-exit', true),
    cluster: fact('Cluster', 'cluster', true),
  };
  facts.cluster.wrap.hidden = true;
  const state = h('span', { class: 'state', 'data-field': 'state' });
  // Why the bot cannot do its job, in the supervisor's words (the same sentence as `botvisor status`).
  const problem = h('p', { class: 'problem', role: 'status', 'data-field': 'problem' });
  problem.hidden = true;
  const restart = h('button', { type: 'button', class: 'btn', 'aria-label': `Restart ${bot.name}`, text: 'Restart' });
  restart.hidden = Boolean(app.session?.readOnly);
  restart.addEventListener('click', () => restartBot(bot.name, restart));
  const power = h('button', { type: 'button', class: 'btn', 'data-field': 'power' });
  power.hidden = Boolean(app.session?.readOnly);
  power.addEventListener('click', () => powerBot(card, power));
  const charts = h('div', { class: 'charts', role: 'group', 'aria-label': `History of ${bot.name} (last hour)` });
  const childrenTitle = h('h4', { id: `bot-${n}-children` });
  const childrenBox = h('div');
  const logList = h('ol', { class: 'log-lines', 'aria-label': `Log of ${bot.name}` });
  const details = h('details', { class: 'log' }, h('summary', { text: `Log (last ${LOG_LINES} lines)` }), logList);
  const card = {
    name: bot.name,
    el: h(
      'article',
      { class: 'bot', 'data-bot': bot.name, 'aria-labelledby': `bot-${n}-title` },
      h('div', { class: 'bot-head' }, h('h3', { id: `bot-${n}-title`, text: bot.name }), h('span', { class: 'kind', text: bot.kind }), state),
      problem,
      h('dl', { class: 'facts' }, Object.values(facts).map((f) => f.wrap)),
      h('div', { class: 'children', role: 'group', 'aria-labelledby': `bot-${n}-children` }, childrenTitle, childrenBox),
      h('div', { class: 'actions' }, restart, power),
      h('details', { class: 'history', open: true }, h('summary', { text: 'Last hour' }), charts),
      details,
    ),
    state,
    problem,
    facts,
    restart,
    power,
    charts,
    plots: new Map(),
    running: false,
    childrenTitle,
    childrenBox,
    childrenKey: null,
    details,
    logList,
    logTimer: undefined,
  };
  details.addEventListener('toggle', () => {
    clearInterval(card.logTimer);
    if (!details.open) return;
    void loadLog(card);
    card.logTimer = setInterval(() => void loadLog(card), LOG_REFRESH_MS);
  });
  return card;
}

/**
 * Who polls a token in cluster mode, as this node sees it: its role, the active node, the epoch
 * and the lease's expiry (the same facts as `botvisor status`).
 */
function describeLease(c) {
  const expires = c.leaseExpiresInMs === null ? '' : ` · lease ends in ${(c.leaseExpiresInMs / 1000).toFixed(1)} s unless renewed`;
  const who = c.role === 'active' ? `active on this node (${c.node})` : `standby on this node (${c.node}) · active: ${c.holder ?? 'nobody'}`;
  return `${who} · epoch ${c.epoch ?? '?'}${expires}${c.error !== null ? ` · ${c.error}` : ''}`;
}

function renderBots(state) {
  const list = byId('bot-list');
  const leases = new Map(state.locks.filter((l) => l.cluster).map((l) => [l.bot, l.cluster]));
  const names = new Set(state.bots.map((b) => b.name));
  for (const [name, card] of app.cards) {
    if (names.has(name)) continue;
    clearInterval(card.logTimer);
    card.el.remove();
    app.cards.delete(name);
  }
  state.bots.forEach((bot, i) => {
    let card = app.cards.get(bot.name);
    if (!card) {
      card = createCard(bot);
      app.cards.set(bot.name, card);
    }
    if (list.children[i] !== card.el) list.insertBefore(card.el, list.children[i] ?? null);
    updateCard(card, bot, leases.get(bot.name) ?? null);
  });
}

function updateCard(card, bot, lease) {
  card.el.dataset.state = bot.state;
  card.state.className = `state state-${bot.state}`;
  card.state.textContent = bot.state;
  card.el.dataset.problem = bot.problem ? 'yes' : 'no';
  card.problem.hidden = !bot.problem;
  card.problem.textContent = bot.problem ?? '';
  const f = card.facts;
  f.pid.dd.textContent = bot.pid ?? '—';
  f.uptime.dd.textContent = bot.state === 'ready' ? duration(bot.uptimeMs) : '—';
  f.restarts.dd.textContent = String(bot.restarts);
  f.cpu.dd.textContent = bot.pid ? `${bot.cpu.toFixed(1)} %` : '—';
  f.memory.dd.textContent = bot.pid ? bytes(bot.memoryBytes) : '—';
  f.polling.dd.textContent = bot.polling ? 'yes' : 'no (send-only)';
  f.lastExit.dd.textContent = describeExit(bot.lastExit);
  f.lastExit.dd.className = bot.lastExit ? (exitIsBad(bot.lastExit) ? 'exit-bad' : '') : 'muted';
  // Cluster mode only: which node polls this bot's token.
  f.cluster.wrap.hidden = !lease;
  f.cluster.dd.textContent = lease ? describeLease(lease) : '';
  f.cluster.dd.className = lease?.error ? 'exit-bad' : '';
  if (lease) card.el.dataset.clusterRole = lease.role;
  else delete card.el.dataset.clusterRole;
  // Stop while it runs (or waits to run again), Start once it is stopped or given up on.
  card.running = !['stopped', 'errored'].includes(bot.state);
  if (card.power.dataset.busy !== 'true' && card.power.dataset.confirming !== 'true') {
    card.power.textContent = card.running ? 'Stop' : 'Start';
    card.power.setAttribute('aria-label', `${card.running ? 'Stop' : 'Start'} ${bot.name}`);
    card.power.className = card.running ? 'btn btn-danger' : 'btn btn-primary';
  }
  renderChildren(card, bot);
}

function renderChildren(card, bot) {
  const readOnly = Boolean(app.session?.readOnly);
  const key = `${readOnly}|${bot.children.map((c) => `${c.pid}:${c.parentPid}:${c.command}`).join(',')}`;
  if (key === card.childrenKey) return;
  card.childrenKey = key;
  card.childrenTitle.textContent = `CLI children (${bot.children.length})`;
  if (bot.children.length === 0) {
    card.childrenBox.replaceChildren(h('p', { class: 'none', text: 'none running' }));
    return;
  }
  const below = new Map();
  for (const c of bot.children) below.set(c.parentPid, [...(below.get(c.parentPid) ?? []), c]);
  const branch = (parent) =>
    h(
      'ul',
      { class: parent === null ? 'tree' : '' },
      (below.get(parent) ?? []).map((c) => {
        const stop = readOnly
          ? null
          : h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Stop ${c.command} (pid ${c.pid}) of ${bot.name}`, text: 'Stop' });
        stop?.addEventListener('click', () => confirmThen(stop, 'Confirm stop', () => stopChild(bot.name, c, stop)));
        return h('li', {}, h('div', { class: 'child', 'data-pid': c.pid }, h('code', { text: c.command }), h('span', { class: 'pid', text: `pid ${c.pid}` }), stop), below.has(c.pid) ? branch(c.pid) : null);
      }),
    );
  card.childrenBox.replaceChildren(branch(null));
}

async function restartBot(name, button) {
  button.disabled = true;
  button.textContent = 'Restarting…';
  try {
    await post(`/api/bots/${encodeURIComponent(name)}/restart`);
    toast(`${name} restarted and is ready`);
  } catch (err) {
    toast(`Restart of ${name} failed: ${err.message}`, true);
  } finally {
    button.disabled = false;
    button.textContent = 'Restart';
  }
}

async function powerBot(card, button) {
  const stopping = card.running;
  const act = async () => {
    button.dataset.busy = 'true';
    button.disabled = true;
    button.textContent = stopping ? 'Stopping…' : 'Starting…';
    try {
      await post(`/api/bots/${encodeURIComponent(card.name)}/${stopping ? 'stop' : 'start'}`);
      toast(stopping ? `${card.name} stopped` : `${card.name} started and is ready`);
    } catch (err) {
      toast(`${stopping ? 'Stop' : 'Start'} of ${card.name} failed: ${err.message}`, true);
    } finally {
      delete button.dataset.busy;
      button.disabled = false;
      button.textContent = card.running ? 'Stop' : 'Start';
    }
  };
  if (stopping) confirmThen(button, `Confirm stop`, act);
  else void act();
}

async function stopChild(bot, child, button) {
  button.disabled = true;
  button.textContent = 'Stopping…';
  try {
    const result = await post(`/api/bots/${encodeURIComponent(bot)}/children/${child.pid}/stop`);
    toast(`Stopped ${result.stopped.command} (pid ${result.stopped.pid})${result.survivors.length > 0 ? `; ${result.survivors.length} process(es) survived` : ''}`);
  } catch (err) {
    toast(`Could not stop pid ${child.pid}: ${err.message}`, true);
    button.disabled = false;
    button.textContent = 'Stop';
  }
}

async function loadLog(card) {
  try {
    const response = await fetch(`/api/bots/${encodeURIComponent(card.name)}/log?lines=${LOG_LINES}`, { credentials: 'same-origin' });
    const tail = await response.json();
    if (!response.ok) throw new Error(tail.error ?? `HTTP ${response.status}`);
    const list = card.logList;
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
    if (!tail.exists || tail.lines.length === 0) {
      list.replaceChildren(h('li', { text: tail.exists ? 'The log is empty.' : 'No log file yet.' }));
      return;
    }
    list.replaceChildren(
      ...tail.lines.map((line) =>
        h(
          'li',
          {},
          line.ts ? h('span', { class: 'ts', text: `${clock(line.ts)} ` }) : null,
          line.level ? h('span', { class: `lvl lvl-${line.level}`, text: `${line.level.toUpperCase()} ` }) : null,
          line.msg,
          line.detail ? h('span', { class: 'detail', text: ` ${line.detail}` }) : null,
        ),
      ),
    );
    if (atBottom) list.scrollTop = list.scrollHeight;
  } catch (err) {
    card.logList.replaceChildren(h('li', { text: `Could not read the log: ${err.message}` }));
  }
}

// ---------------------------------------------------------------- history charts

/** One small chart per figure; `series` are the history's columns, `scale` turns values into what is shown. */
const CHARTS = [
  { key: 'updates', title: 'Updates/s', series: [{ column: 'updatesPerSec', label: 'updates/s', stroke: '#2456c7' }] },
  {
    key: 'latency',
    title: 'Reply latency (ms)',
    series: [
      { column: 'p50Ms', label: 'p50', stroke: '#1a7f37' },
      { column: 'p99Ms', label: 'p99', stroke: '#b42318' },
    ],
  },
  { key: 'rss', title: 'Memory (MB)', series: [{ column: 'rssBytes', label: 'RSS MB', stroke: '#8a5a00', scale: (v) => v / 1024 / 1024 }] },
  { key: 'cpu', title: 'CPU %', series: [{ column: 'cpu', label: 'CPU %', stroke: '#6f42c1' }] },
  {
    key: 'trouble',
    title: 'Restarts and problems',
    series: [
      { column: 'restarts', label: 'restarts', stroke: '#b42318' },
      { column: 'problem', label: 'problem', stroke: '#8a5a00', paths: 'stepped' },
    ],
  },
];

const history = { timer: undefined, everyMs: 10000 };
const CHART_HEIGHT = 90;

/** The chart's width: its figure's, as the grid laid it out. */
function chartWidth(figure) {
  return Math.max(120, Math.floor(figure.clientWidth || 240));
}

/** The caption: the title, and a colour key when a chart has more than one line. */
function caption(def) {
  const parts = [h('span', { text: def.title })];
  if (def.series.length > 1) {
    for (const s of def.series) {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = s.stroke;
      parts.push(' ', swatch, h('span', { text: s.label }));
    }
  }
  return h('figcaption', {}, parts);
}

function drawHistory(card, series) {
  if (typeof window.uPlot !== 'function' || !series) return;
  for (const def of CHARTS) {
    const data = [series.t, ...def.series.map((s) => series[s.column].map((v) => (v === null ? null : s.scale ? s.scale(v) : v)))];
    const points = data.slice(1).reduce((n, col) => n + col.filter((v) => v !== null).length, 0);
    let plot = card.plots.get(def.key);
    if (!plot) {
      const figure = h('figure', { class: 'chart', 'data-chart': def.key }, caption(def));
      card.charts.append(figure);
      const opts = {
        width: chartWidth(figure),
        height: CHART_HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        axes: [{ size: 24, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })) }, { size: 42 }],
        series: [{}, ...def.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, spanGaps: false, points: { show: false }, ...(s.paths === 'stepped' ? { paths: window.uPlot.paths.stepped({ align: 1 }) } : {}) }))],
      };
      plot = { figure, u: new window.uPlot(opts, data, figure) };
      card.plots.set(def.key, plot);
    } else {
      plot.u.setData(data);
      const width = chartWidth(plot.figure);
      if (Math.abs(plot.u.width - width) > 2) plot.u.setSize({ width, height: CHART_HEIGHT });
    }
    plot.figure.dataset.points = String(points);
    plot.figure.dataset.max = String(Math.max(0, ...data[1].filter((v) => v !== null)));
  }
}

async function loadHistory() {
  try {
    const response = await fetch('/api/history', { credentials: 'same-origin' });
    if (!response.ok) return;
    const snapshot = await response.json();
    if (snapshot.sampleMs > 0) history.everyMs = Math.max(1000, Math.min(snapshot.sampleMs, 10000));
    for (const [name, series] of Object.entries(snapshot.bots)) {
      const card = app.cards.get(name);
      if (card) drawHistory(card, series);
    }
  } catch {
    // The next round tries again; the live state does not depend on it.
  } finally {
    clearTimeout(history.timer);
    history.timer = setTimeout(() => void loadHistory(), history.everyMs);
  }
}

window.addEventListener('resize', () => {
  for (const card of app.cards.values()) for (const plot of card.plots.values()) plot.u.setSize({ width: chartWidth(plot.figure), height: CHART_HEIGHT });
});

// ---------------------------------------------------------------- locks and events

function renderLocks(state) {
  // The Cluster column only in cluster mode: on one machine the local lock says it all.
  const clustered = state.locks.some((l) => l.cluster);
  byId('lock-cluster-col').hidden = !clustered;
  const rows = state.locks.map((l) =>
    h(
      'tr',
      { 'data-lock-bot': l.bot },
      h('td', {}, h('code', { text: l.tokenHash, title: 'first 16 hex of sha256(token)' })),
      h('td', { text: l.bot }),
      h('td', { text: l.owner ? `${l.owner.role} pid ${l.owner.pid}` : 'nobody' }),
      h('td', { title: l.owner?.since ?? '' }, l.owner ? ago(l.owner.since) : '—'),
      clustered ? h('td', { 'data-field': 'cluster', text: l.cluster ? `${l.cluster.role === 'active' ? l.cluster.node : (l.cluster.holder ?? 'nobody')} active, epoch ${l.cluster.epoch ?? '?'}` : '—' }) : null,
    ),
  );
  if (rows.length === 0) rows.push(h('tr', {}, h('td', { class: 'empty', colspan: clustered ? 5 : 4, text: 'No polling locks (no bot polls).' })));
  byId('lock-rows').replaceChildren(...rows);
}

function renderEvents(state) {
  const list = byId('event-list');
  const fresh = [];
  for (const e of state.events) {
    const key = `${e.at}|${e.kind}|${e.bot}|${e.message}`;
    if (app.seenEvents.has(key)) continue;
    app.seenEvents.add(key);
    fresh.push(
      h(
        'li',
        { 'data-kind': e.kind },
        h('span', { class: `ev-kind ev-${e.kind}`, text: e.kind }),
        h('time', { datetime: e.at, title: e.at, text: clock(e.at) }),
        h('span', { class: 'msg', text: e.message }),
      ),
    );
  }
  // state.events is newest first: prepend the new ones in that order.
  if (fresh.length > 0) list.prepend(...fresh);
  while (list.children.length > 50) list.lastElementChild.remove();
  if (list.children.length === 0) list.replaceChildren(h('li', { class: 'none', text: 'Nothing has happened yet.' }));
  else list.querySelector('li.none')?.remove();
}

// ---------------------------------------------------------------- sandbox chat

const chat = { started: false, after: 0, userAfter: 0, /** message id → bubble */ bubbles: new Map(), itemIds: new Set() };

function bubble(item) {
  const text = h('span', { class: 'msg-text', text: item.text });
  const meta = h('span', { class: 'msg-meta', text: `${item.from === 'user' ? 'you' : 'bot'} · ${clock(item.at)}` });
  const li = h('li', { class: `msg-bubble from-${item.from}`, 'data-chat-id': item.id, 'data-message-id': item.messageId ?? '' }, text, meta);
  setButtons(li, item);
  return li;
}

/** The message's inline buttons, tappable: a tap reaches the bot as the sim user's callback query. */
function setButtons(li, item) {
  li.querySelector('.msg-buttons')?.remove();
  const rows = item.keys ?? (item.buttons ?? []).map((row) => row.map((text) => ({ text, data: null })));
  if (rows.length === 0) return;
  const readOnly = Boolean(app.session?.readOnly);
  li.append(
    h(
      'div',
      { class: 'msg-buttons', role: 'group', 'aria-label': 'Buttons' },
      rows.map((row) =>
        h(
          'div',
          {},
          row.map((key) => {
            const button = h('button', { type: 'button', class: 'btn btn-small', text: key.text, disabled: readOnly || key.data === null || item.messageId === null });
            button.addEventListener('click', () => void tapButton(item.messageId, key, button));
            return button;
          }),
        ),
      ),
    ),
  );
}

async function tapButton(messageId, key, button) {
  button.disabled = true;
  try {
    await post('/api/chat/tap', { messageId, data: key.data });
  } catch (err) {
    toast(`The tap on "${key.text}" did not reach the bot: ${err.message}`, true);
  } finally {
    button.disabled = false;
  }
}

function applyChat(items) {
  const log = byId('chat-log');
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 24;
  for (const item of items) {
    if (chat.itemIds.has(item.id)) continue;
    chat.itemIds.add(item.id);
    const target = item.messageId !== null ? chat.bubbles.get(`${item.from}:${item.messageId}`) : undefined;
    if (item.kind === 'edited' && target) {
      target.querySelector('.msg-text').textContent = item.text;
      target.querySelector('.msg-meta').textContent = `bot · edited ${clock(item.at)}`;
      target.dataset.edited = 'true';
      setButtons(target, { ...item, messageId: item.messageId });
      continue;
    }
    if (item.kind === 'deleted') {
      if (target) {
        target.classList.add('msg-deleted');
        target.querySelector('.msg-meta').textContent = `bot · deleted ${clock(item.at)}`;
      }
      continue;
    }
    if (item.kind === 'action') {
      // "typing…" matters only while it is fresh.
      if (Date.now() - Date.parse(item.at) < 5000) showAction(item.text);
      continue;
    }
    if (item.kind === 'callback_answer') {
      if (item.text) log.append(h('li', { class: 'chat-action', text: `button answer: ${item.text}` }));
      continue;
    }
    const li = bubble(item);
    if (item.kind === 'document') li.querySelector('.msg-text').textContent = `📄 ${item.text}`;
    log.append(li);
    if (item.messageId !== null) chat.bubbles.set(`${item.from}:${item.messageId}`, li);
    if (item.from === 'bot') byId('chat-log').querySelector('.chat-action.typing')?.remove();
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function showAction(action) {
  const log = byId('chat-log');
  log.querySelector('.chat-action.typing')?.remove();
  const li = h('li', { class: 'chat-action typing', text: `bot is ${action.replace(/_/g, ' ')}…` });
  log.append(li);
  setTimeout(() => li.remove(), 5000);
}

async function chatLoop() {
  for (;;) {
    try {
      const response = await fetch(`/api/chat?after=${chat.after}&userAfter=${chat.userAfter}&waitMs=${CHAT_WAIT_MS}`, { credentials: 'same-origin' });
      const page = await response.json();
      if (!response.ok) throw new Error(page.error ?? `HTTP ${response.status}`);
      applyChat(page.items);
      chat.after = Math.max(chat.after, page.cursor);
      chat.userAfter = Math.max(chat.userAfter, page.userCursor);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function startChat() {
  if (chat.started) return;
  chat.started = true;
  byId('chat-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = byId('chat-input');
    const button = event.target.querySelector('button');
    const text = input.value;
    if (text.trim() === '') return;
    button.disabled = true;
    try {
      const sent = await post('/api/chat', { text });
      input.value = '';
      applyChat([sent.item]);
      byId('chat-log').scrollTop = byId('chat-log').scrollHeight;
    } catch (err) {
      toast(`Not sent: ${err.message}`, true);
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
  void chatLoop();
}

// ---------------------------------------------------------------- start

async function main() {
  try {
    await loadSession();
  } catch (err) {
    toast(err.message, true);
  }
  connect();
  void loadHistory();
}

void main();
