// Continuum operator dashboard: plain ES modules, no build step. uPlot is served from node_modules
// (/vendor/uplot), the socket.io client by the socket.io server itself. Live data arrives on the
// `/live` namespace (typed events: reading, twin, alert, work-order, training-progress).
/* global document, location, Node, window, alert */
import { io } from '/socket.io/socket.io.esm.min.js';
import uPlot from '/vendor/uplot/uPlot.esm.js';

const KEY = 'continuum.apiKey';
const MAX_POINTS = 2000;
const Z90 = 1.2815515655446004;
const $ = (id) => document.getElementById(id);

/** Builds an element: h('div', { class: 'x', onclick }, child, 'text'). Text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const hours = (ms) =>
  ms === null || ms === undefined ? '–' : ms >= 48 * 3.6e6 ? `${fmt(ms / 8.64e7, 1)} d` : `${fmt(ms / 3.6e6, 1)} h`;
const time = (ms) => new Date(ms).toLocaleString();

const state = {
  key: localStorage.getItem(KEY),
  machines: new Map(),
  alerts: new Map(),
  orders: new Map(),
  jobs: new Map(),
  proposal: null,
  machineView: null,
  socket: null,
};

async function api(method, path, body) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${state.key}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw Object.assign(new Error(data?.detail ?? res.statusText), { status: res.status });
  return data;
}

// ---- health and risk ----

/** 0..1: the larger of the anomaly score's and the remaining life's share of the risk. */
function risk(m) {
  if (!m.twin) return 0;
  const anomaly = Math.min(1, m.twin.anomalyScore / 5);
  const rul = m.twin.rulMs ? Math.max(0, 1 - m.twin.rulMs.p10 / (72 * 3.6e6)) : 0;
  return Math.max(anomaly, rul);
}
const health = (r) => (r >= 0.6 ? 'bad' : r >= 0.3 ? 'warn' : 'ok');

// ---- views ----

function route() {
  const hash = location.hash || '#/';
  const [, view, id] = /^#\/([a-z]*)\/?(.*)$/.exec(hash) ?? [];
  const name = view === 'machine' ? 'machine' : view || 'plant';
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `view-${name}`;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === name);
  if (name === 'machine') openMachine(decodeURIComponent(id));
  else closeMachine();
  if (name === 'work') renderWork();
}

function renderMachines() {
  const list = [...state.machines.values()].sort((a, b) => risk(b) - risk(a) || a.id.localeCompare(b.id));
  $('machines').replaceChildren(
    ...(list.length
      ? list.map((m) => {
          const r = risk(m);
          return h(
            'div',
            {
              class: `machine health-${health(r)}`,
              'data-machine-id': m.id,
              'data-health': health(r),
              onclick: () => (location.hash = `#/machine/${encodeURIComponent(m.id)}`),
            },
            h('div', { class: 'id' }, m.name && m.name !== m.id ? `${m.id} · ${m.name}` : m.id),
            h('div', { class: 'meta' }, `${m.plantId} · ${m.assetType}`),
            h('div', { class: 'kv' }, h('span', {}, 'anomaly'), h('b', {}, fmt(m.twin?.anomalyScore))),
            h(
              'div',
              { class: 'kv' },
              h('span', {}, 'RUL p10 / p50'),
              h('b', {}, `${hours(m.twin?.rulMs?.p10)} / ${hours(m.twin?.rulMs?.p50)}`),
            ),
            h('div', { class: 'kv' }, h('span', {}, 'model'), h('span', {}, m.twin?.modelVersion ?? '–')),
          );
        })
      : [h('p', { class: 'empty' }, 'No machines registered yet.')]),
  );
}

function alertRow(a, compact = false) {
  const machine = state.machines.get(a.machineId);
  return h(
    'tr',
    { 'data-alert-id': a.id, 'data-status': a.status },
    h('td', { class: `sev-${a.severity}` }, a.severity),
    h('td', { class: `st-${a.status}` }, a.status),
    compact
      ? null
      : h(
          'td',
          {},
          h('a', { href: `#/machine/${encodeURIComponent(a.machineId)}` }, a.machineId),
          machine ? ` (${machine.plantId})` : '',
        ),
    h('td', {}, a.message),
    compact ? null : h('td', {}, time(a.raisedAt)),
    h(
      'td',
      {},
      a.status === 'open'
        ? h('button', { 'data-action': 'acknowledge', onclick: () => alertAction(a.id, 'acknowledge') }, 'Acknowledge')
        : null,
      ' ',
      a.status === 'open' || a.status === 'acknowledged'
        ? h('button', { 'data-action': 'resolve', onclick: () => alertAction(a.id, 'resolve') }, 'Resolve')
        : null,
    ),
  );
}

function renderAlerts() {
  const open = [...state.alerts.values()]
    .filter((a) => a.status === 'open' || a.status === 'acknowledged')
    .sort((a, b) => b.raisedAt - a.raisedAt);
  $('alert-count').textContent = open.filter((a) => a.status === 'open').length || '';
  $('alerts').replaceChildren(
    open.length
      ? h(
          'table',
          {},
          h('tr', {}, ...['severity', 'status', 'machine', 'message', 'raised', ''].map((t) => h('th', {}, t))),
          ...open.map((a) => alertRow(a)),
        )
      : h('p', { class: 'empty' }, 'No open alerts.'),
  );
  if (state.machineView) {
    const mine = open.filter((a) => a.machineId === state.machineView.id);
    $('machine-alerts').replaceChildren(
      mine.length ? h('table', {}, ...mine.map((a) => alertRow(a, true))) : h('p', { class: 'empty' }, 'None.'),
    );
  }
}

async function alertAction(id, action) {
  try {
    const updated = await api('POST', `/alerts/${id}/${action}`, {});
    state.alerts.set(id, {
      ...updated,
      raisedAt: Date.parse(updated.raisedAt),
      updatedAt: Date.parse(updated.updatedAt),
    });
    renderAlerts();
  } catch (err) {
    alert(`${action} failed: ${err.message}`);
  }
}

// ---- machine view: live charts ----

function chart(el, title, series, bands) {
  const box = h('div', { class: 'chart' }, h('div', { class: 'title' }, title));
  el.append(box);
  const data = [[], ...series.map(() => [])];
  const plot = new uPlot(
    {
      width: Math.max(300, el.clientWidth - 20),
      height: 180,
      scales: { x: { time: true } },
      axes: [
        { stroke: '#8a99a8', grid: { stroke: '#2b3642' } },
        { stroke: '#8a99a8', grid: { stroke: '#2b3642' } },
      ],
      series: [{}, ...series],
      bands,
    },
    data,
    box,
  );
  return { box, plot, data };
}

/** Adds points (epoch ms, one value per series, null where none) in time order and redraws. */
function push(c, rows) {
  if (!c || !rows.length) return;
  const merged = c.data[0].map((t, i) => [t, ...c.data.slice(1).map((s) => s[i])]);
  merged.push(...rows.map(([t, ...v]) => [t / 1000, ...v]));
  merged.sort((a, b) => a[0] - b[0]);
  const kept = merged.slice(-MAX_POINTS);
  c.data = c.data.map((_, j) => kept.map((r) => r[j] ?? null));
  c.plot.setData(c.data);
  c.box.dataset.points = String(c.data[0].length);
}

async function openMachine(id) {
  if (state.machineView?.id === id) return;
  closeMachine();
  const view = { id, charts: new Map(), anomaly: null };
  state.machineView = view;
  $('machine-title').textContent = id;
  $('charts').replaceChildren();
  $('anomaly-chart').replaceChildren();
  $('forecast').replaceChildren(h('p', { class: 'empty' }, 'Loading…'));
  let machine;
  try {
    machine = await api('GET', `/machines/${encodeURIComponent(id)}`);
  } catch (err) {
    $('machine-summary').replaceChildren(h('p', { class: 'error' }, err.message));
    return;
  }
  state.machines.set(id, machine);
  renderSummary(machine);
  renderAlerts();
  state.socket?.emit('join', { machineId: id });
  const series = [
    { label: 'reading', stroke: '#4aa3ff', width: 1.5 },
    { label: 'twin p50', stroke: '#e0a526', width: 1, dash: [4, 3] },
    { label: 'p10', stroke: 'rgba(224,165,38,0.4)', width: 0.5 },
    { label: 'p90', stroke: 'rgba(224,165,38,0.4)', width: 0.5 },
  ];
  const bands = [{ series: [4, 3], fill: 'rgba(224,165,38,0.15)' }];
  for (const s of machine.sensors?.length ? machine.sensors : []) {
    view.charts.set(
      s.name,
      chart(
        $('charts'),
        `${s.name}${s.unit ? ` (${s.unit})` : ''} — readings vs twin prediction (p10–p90)`,
        series,
        bands,
      ),
    );
  }
  view.anomaly = chart($('anomaly-chart'), 'anomaly score', [{ label: 'score', stroke: '#e0523f', width: 1.5 }], []);
  const to = new Date();
  const from = new Date(to.getTime() - 3_600_000);
  try {
    const t = await api(
      'GET',
      `/machines/${encodeURIComponent(id)}/telemetry?from=${from.toISOString()}&to=${to.toISOString()}&points=500`,
    );
    for (const s of t.series) {
      const c = ensureChart(view, s.sensor, series, bands);
      push(
        c,
        s.t.map((ts, i) => [typeof ts === 'number' ? ts : Date.parse(ts), s.v[i], null, null, null]),
      );
    }
  } catch {
    /* no readings yet */
  }
  await loadForecast(view);
}

function ensureChart(view, sensor, series, bands) {
  if (!view.charts.has(sensor))
    view.charts.set(sensor, chart($('charts'), `${sensor} — readings vs twin prediction (p10–p90)`, series, bands));
  return view.charts.get(sensor);
}

async function loadForecast(view) {
  try {
    const f = await api('GET', `/machines/${encodeURIComponent(view.id)}/twin/forecast?hours=1`);
    if (state.machineView !== view) return;
    for (const [sensor, b] of Object.entries(f.bands)) {
      const c = view.charts.get(sensor);
      if (c)
        push(
          c,
          b.t.map((t, i) => [t, null, b.p50[i], b.p10[i], b.p90[i]]),
        );
    }
    const bar = (label, ms) =>
      h(
        'div',
        { class: 'rul' },
        h('span', {}, label),
        h('div', { class: 'bar' }, h('span', { style: `width:${Math.min(100, (100 * ms) / f.horizonMs)}%` })),
        h('b', {}, hours(ms)),
      );
    $('forecast').replaceChildren(
      h('p', {}, `from ${time(f.fromMs)} · horizon ${hours(f.horizonMs)} · ${f.samples} samples · ${f.modelVersion}`),
      ...(f.rulMs
        ? [
            h('div', { class: 'title' }, 'Remaining useful life'),
            bar('p10', f.rulMs.p10),
            bar('p50', f.rulMs.p50),
            bar('p90', f.rulMs.p90),
          ]
        : [h('p', {}, 'No threshold crossing expected within the horizon.')]),
      h('div', { class: 'title' }, 'Probability of crossing a failure threshold'),
      ...Object.entries(f.crossingProbability).map(([s, p]) =>
        h(
          'div',
          { class: 'rul' },
          h('span', {}, s),
          h('div', { class: 'bar' }, h('span', { style: `width:${100 * p}%` })),
          h('b', {}, `${fmt(100 * p, 0)} %`),
        ),
      ),
    );
  } catch (err) {
    if (state.machineView === view)
      $('forecast').replaceChildren(h('p', { class: 'empty' }, err.status === 404 ? 'No forecast yet.' : err.message));
  }
}

function renderSummary(m) {
  $('machine-summary').replaceChildren(
    h('span', {}, 'plant ', h('b', {}, m.plantId)),
    h('span', {}, 'type ', h('b', {}, m.assetType)),
    h('span', {}, 'last update ', h('b', {}, m.twin ? time(m.twin.lastUpdate) : '–')),
    h('span', {}, 'anomaly ', h('b', { id: 'summary-anomaly' }, fmt(m.twin?.anomalyScore))),
    h(
      'span',
      {},
      'RUL p10/p50/p90 ',
      h(
        'b',
        {},
        m.twin?.rulMs ? `${hours(m.twin.rulMs.p10)} / ${hours(m.twin.rulMs.p50)} / ${hours(m.twin.rulMs.p90)}` : '–',
      ),
    ),
    h('span', {}, 'model ', h('b', {}, m.twin?.modelVersion ?? '–')),
  );
}

function closeMachine() {
  const view = state.machineView;
  if (!view) return;
  state.socket?.emit('leave', { machineId: view.id });
  for (const c of view.charts.values()) c.plot.destroy();
  view.anomaly?.plot.destroy();
  state.machineView = null;
}

// ---- work orders and the schedule timeline ----

function renderWork() {
  const orders = [...state.orders.values()].sort((a, b) => (a.windowStart ?? Infinity) - (b.windowStart ?? Infinity));
  $('work-orders').replaceChildren(
    orders.length
      ? h(
          'table',
          {},
          h('tr', {}, ...['machine', 'title', 'priority', 'status', 'crew', 'window'].map((t) => h('th', {}, t))),
          ...orders.map((o) =>
            h(
              'tr',
              { 'data-work-order-id': o.id },
              h('td', {}, o.machineId),
              h('td', {}, o.title),
              h('td', {}, o.priority),
              h('td', {}, o.status),
              h('td', {}, o.crew ?? '–'),
              h('td', {}, o.windowStart ? `${time(o.windowStart)} – ${time(o.windowEnd)}` : '–'),
            ),
          ),
        )
      : h('p', { class: 'empty' }, 'No work orders.'),
  );
  const slots = [
    ...orders
      .filter((o) => o.windowStart && o.crew)
      .map((o) => ({
        crew: o.crew,
        start: o.windowStart,
        end: o.windowEnd,
        label: `${o.machineId}: ${o.title}`,
        proposed: false,
      })),
    ...(state.proposal?.assignments ?? []).map((a) => ({
      crew: a.crewId,
      start: Date.parse(a.start),
      end: Date.parse(a.end),
      label: `${a.machineId} (proposed)`,
      proposed: true,
    })),
  ];
  const t0 = Date.now() - 3_600_000;
  const t1 = t0 + 50 * 3_600_000;
  const x = (t) => `${Math.max(0, Math.min(100, ((t - t0) / (t1 - t0)) * 100))}%`;
  const crews = [...new Set(slots.map((s) => s.crew))].sort();
  $('timeline').replaceChildren(
    h(
      'div',
      { class: 'axis' },
      ...Array.from({ length: 6 }, (_, i) => t0 + i * 10 * 3_600_000).map((t) =>
        h(
          'span',
          { style: `left:${x(t)}` },
          new Date(t).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }),
        ),
      ),
    ),
    ...(crews.length
      ? crews.map((crew) =>
          h(
            'div',
            { class: 'lane' },
            h('span', { class: 'lane-label' }, crew),
            ...slots
              .filter((s) => s.crew === crew)
              .map((s) =>
                h(
                  'div',
                  {
                    class: `slot${s.proposed ? ' proposed' : ''}`,
                    title: s.label,
                    style: `left:${x(s.start)};width:calc(${x(s.end)} - ${x(s.start)})`,
                  },
                  s.label,
                ),
              ),
          ),
        )
      : [h('p', { class: 'empty', style: 'padding:8px' }, 'Nothing scheduled in the next 48 h.')]),
  );
}

async function propose() {
  const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const end = new Date(start.getTime() + 48 * 3_600_000);
  const plants = [...new Set([...state.machines.values()].map((m) => m.plantId))];
  const machines = [...state.machines.values()]
    .filter((m) => m.twin?.rulMs)
    .map((m) => ({
      machineId: m.id,
      rulHours: {
        p10: Math.max(0.1, m.twin.rulMs.p10 / 3.6e6),
        p50: Math.max(0.1, m.twin.rulMs.p50 / 3.6e6),
        p90: Math.max(0.1, m.twin.rulMs.p90 / 3.6e6),
      },
    }));
  $('schedule-status').textContent = 'solving…';
  try {
    state.proposal = await api('POST', '/maintenance/schedule', {
      horizon: { start, end },
      crews: [1, 2].map((n) => ({
        id: `crew-${n}`,
        shifts: [0, 1].map((d) => ({
          start: new Date(start.getTime() + d * 86_400_000),
          end: new Date(start.getTime() + d * 86_400_000 + 8 * 3_600_000),
        })),
      })),
      windows: plants.map((plantId) => ({ plantId, start, end })),
      machines,
    });
    $('schedule-status').textContent =
      `${state.proposal.status}: ${state.proposal.assignments.length} jobs, expected cost ${fmt(state.proposal.objective ?? state.proposal.expectedCost, 0)}`;
    $('accept').hidden = state.proposal.assignments.length === 0;
  } catch (err) {
    $('schedule-status').textContent = err.message;
    state.proposal = null;
  }
  renderWork();
}

async function accept() {
  if (!state.proposal) return;
  try {
    await api('POST', '/maintenance/schedule/accept', {
      assignments: state.proposal.assignments.map(({ workOrderId, machineId, crewId, start, end }) => ({
        workOrderId,
        machineId,
        crewId,
        start,
        end,
      })),
    });
    state.proposal = null;
    $('accept').hidden = true;
    $('schedule-status').textContent = 'accepted';
    await loadOrders();
  } catch (err) {
    $('schedule-status').textContent = err.message;
  }
}

// ---- training jobs ----

function renderTraining() {
  const jobs = [...state.jobs.values()];
  $('training').replaceChildren(
    ...(jobs.length
      ? jobs.map((j) =>
          h(
            'div',
            { class: 'job', 'data-job-id': j.jobId },
            h('div', { class: 'kv' }, h('b', {}, `${j.assetType} · ${j.jobId.slice(0, 8)}`), h('span', {}, j.status)),
            h(
              'div',
              { class: 'bar' },
              h('span', {
                style: `width:${j.epochs ? (100 * j.epoch) / j.epochs : j.status === 'succeeded' ? 100 : 0}%`,
              }),
            ),
            h(
              'div',
              { class: 'kv' },
              h('span', {}, `epoch ${j.epoch}/${j.epochs} · loss ${fmt(j.loss, 4)}`),
              h('span', {}, j.etaSeconds ? `ETA ${Math.round(j.etaSeconds)} s` : (j.error ?? j.modelId ?? '')),
            ),
          ),
        )
      : [h('p', { class: 'empty' }, 'No training jobs seen yet.')]),
  );
}

// ---- data loading and the live connection ----

const toAlert = (a) => ({ ...a, raisedAt: Date.parse(a.raisedAt), updatedAt: Date.parse(a.updatedAt) });
const ms = (d) => (d ? Date.parse(d) : null);

async function loadOrders() {
  const page = await api('GET', '/work-orders?limit=1000');
  state.orders = new Map(
    page.items.map((o) => [o.id, { ...o, windowStart: ms(o.windowStart), windowEnd: ms(o.windowEnd) }]),
  );
  renderWork();
}

async function load() {
  const [machines, alerts] = await Promise.all([
    api('GET', '/machines?limit=1000'),
    api('GET', '/alerts?status=open,acknowledged&limit=1000'),
  ]);
  state.machines = new Map(machines.items.map((m) => [m.id, m]));
  state.alerts = new Map(alerts.items.map((a) => [a.id, toAlert(a)]));
  renderMachines();
  renderAlerts();
  renderTraining();
  joinRooms();
  route();
  await loadOrders().catch(() => undefined);
  try {
    const jobs = await api('GET', '/training-jobs?limit=50');
    for (const j of jobs.items ?? jobs)
      state.jobs.set(j.id, {
        jobId: j.id,
        assetType: j.assetType,
        status: j.status,
        epoch: j.progress?.epoch ?? 0,
        epochs: j.progress?.epochs ?? j.epochs ?? 0,
        loss: j.progress?.loss ?? null,
      });
    renderTraining();
  } catch {
    /* the training endpoints may not exist in this deployment */
  }
}

/** Joins the room of every plant shown (and of the machine open), once connected. */
function joinRooms() {
  const socket = state.socket;
  if (!socket?.connected) return;
  for (const plantId of new Set([...state.machines.values()].map((m) => m.plantId))) socket.emit('join', { plantId });
  if (state.machineView) socket.emit('join', { machineId: state.machineView.id });
}

function connect() {
  const socket = io('/live', { auth: { token: state.key }, transports: ['websocket'] });
  state.socket = socket;
  socket.on('connect', () => {
    $('live-status').className = 'status on';
    $('live-status').textContent = 'live';
    joinRooms();
  });
  socket.on('disconnect', () => {
    $('live-status').className = 'status off';
    $('live-status').textContent = 'offline';
  });
  socket.on('connect_error', (err) => {
    $('live-status').textContent = err.message.startsWith('unauthorized') ? 'key refused' : 'offline';
  });
  socket.on('reading', (r) => {
    const view = state.machineView;
    if (view?.id !== r.machineId) return;
    for (const [sensor, s] of Object.entries(r.sensors)) {
      const c = view.charts.get(sensor);
      if (c)
        push(
          c,
          s.t.map((t, i) => [t, s.v[i], null, null, null]),
        );
    }
  });
  socket.on('twin', (m) => {
    const machine = state.machines.get(m.machineId);
    if (machine) {
      const rulMs = m.forecast ? m.forecast.rulMs : (machine.twin?.rulMs ?? null);
      machine.twin = { lastUpdate: m.ts, anomalyScore: m.anomalyScore, modelVersion: m.modelVersion, rulMs };
      scheduleRender();
    }
    const view = state.machineView;
    if (view?.id !== m.machineId) return;
    for (const [sensor, p] of Object.entries(m.prediction)) {
      const c = view.charts.get(sensor);
      if (c) push(c, [[m.ts, null, p.mean, p.mean - Z90 * p.std, p.mean + Z90 * p.std]]);
    }
    push(view.anomaly, [[m.ts, m.anomalyScore]]);
    const shown = $('summary-anomaly');
    if (shown) shown.textContent = fmt(m.anomalyScore);
  });
  socket.on('alert', (a) => {
    state.alerts.set(a.id, a);
    renderAlerts();
  });
  socket.on('work-order', (o) => {
    if (o.deleted) state.orders.delete(o.id);
    else state.orders.set(o.id, { ...state.orders.get(o.id), ...o });
    renderWork();
  });
  socket.on('training-progress', (p) => {
    state.jobs.set(p.jobId, p);
    renderTraining();
  });
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    renderMachines();
  }, 1000);
}

async function start() {
  $('login').hidden = true;
  $('logout').hidden = false;
  connect();
  try {
    await load();
  } catch (err) {
    if (err.status === 401) return showLogin('That API key was refused.');
    throw err;
  }
}

function showLogin(message = '') {
  localStorage.removeItem(KEY);
  state.key = null;
  state.socket?.disconnect();
  for (const s of document.querySelectorAll('.view')) s.hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('login-error').textContent = message;
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  state.key = $('api-key').value.trim();
  localStorage.setItem(KEY, state.key);
  void start();
});
$('logout').addEventListener('click', () => showLogin());
$('propose').addEventListener('click', () => void propose());
$('accept').addEventListener('click', () => void accept());
window.addEventListener('hashchange', route);

if (state.key) void start();
else showLogin();
