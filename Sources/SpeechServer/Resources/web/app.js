// SpeechRouter's playground and dashboard: plain JavaScript against the gateway's own API.
// The key lives in localStorage and goes only into Authorization headers, never into a URL.
"use strict";

const API = "/api/v1";
const KEY_STORAGE = "speechrouter.key";
const PCM_RATE = 24000;
const $ = (id) => document.getElementById(id);

// MARK: API access

class APIError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

function storedKey() { return localStorage.getItem(KEY_STORAGE) || ""; }

function headers(extra = {}) {
  const key = storedKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

/** The API's own `error.message` for a failed response, else the HTTP status. */
async function failure(response) {
  let message = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (_) { /* not JSON: keep the status */ }
  return new APIError(message, response.status);
}

async function api(path, options = {}) {
  const init = { ...options, headers: headers(options.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(API + path, init);
  if (!response.ok) throw await failure(response);
  return response.json();
}

function show(element, message) {
  element.textContent = message || "";
  element.hidden = !message;
}

const usd = (value) => (value == null ? "none" : `$${Number(value).toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 4)}`);
const seconds = (value) => `${value.toFixed(2)} s`;

// MARK: Key and views

function setUpKey() {
  const input = $("key");
  const describe = () => { $("key-state").textContent = storedKey() ? "key saved in this browser" : "no key saved"; };
  input.value = storedKey();
  describe();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
    describe();
    if (!$("dashboard").hidden) refreshDashboard();
  });
  $("forget-key").addEventListener("click", () => {
    localStorage.removeItem(KEY_STORAGE);
    input.value = "";
    describe();
  });
}

function setUpTabs() {
  const tabs = [["tab-playground", "playground"], ["tab-dashboard", "dashboard"]];
  for (const [tab, view] of tabs) {
    $(tab).addEventListener("click", () => {
      for (const [otherTab, otherView] of tabs) {
        $(otherTab).setAttribute("aria-pressed", String(otherTab === tab));
        $(otherView).hidden = otherView !== view;
      }
      if (view === "dashboard") refreshDashboard();
    });
  }
}

// MARK: Playground

let models = [];
let current = null; // the request in flight: { controller, stop() }

async function loadModels() {
  try {
    const body = await api("/models");
    models = body.data.filter((model) => (model.architecture?.output_modalities || ["speech"]).includes("speech"));
  } catch (error) {
    show($("speak-error"), error.message);
    return;
  }
  const select = $("model");
  select.replaceChildren(...models.map((model) => new Option(`${model.name} (${model.id})`, model.id)));
  select.addEventListener("change", fillVoices);
  fillVoices();
}

function fillVoices() {
  const model = models.find((candidate) => candidate.id === $("model").value);
  const voices = model?.supported_voices || [];
  const preferred = model?.default_parameters?.voice;
  $("voice").replaceChildren(...voices.map((voice) => new Option(voice, voice, false, voice === preferred)));
}

function resetResult() {
  show($("speak-error"), "");
  $("result").hidden = true;
  for (const id of ["first-audio", "duration", "played", "characters", "cost", "generation-id"]) $(id).textContent = "";
  delete $("played").dataset.seconds;
  const link = $("download");
  if (link.href) URL.revokeObjectURL(link.href);
  link.removeAttribute("href");
  link.hidden = true;
}

/** Plays 24 kHz 16-bit little-endian mono PCM chunks as they arrive, through Web Audio. */
class PCMPlayer {
  constructor() {
    this.context = new AudioContext();
    this.next = 0;
    this.carry = null; // an odd byte left from the previous chunk
    this.sources = new Set();
    this.started = null;
    this.scheduled = 0;
    this.ended = new Promise((resolve) => { this.resolveEnded = resolve; });
    this.finished = false;
  }

  push(bytes) {
    if (this.carry) {
      const joined = new Uint8Array(this.carry.length + bytes.length);
      joined.set(this.carry);
      joined.set(bytes, this.carry.length);
      bytes = joined;
      this.carry = null;
    }
    if (bytes.length % 2) { this.carry = bytes.slice(bytes.length - 1); bytes = bytes.subarray(0, bytes.length - 1); }
    const count = bytes.length / 2;
    if (count === 0) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const buffer = this.context.createBuffer(1, count, PCM_RATE);
    const samples = buffer.getChannelData(0);
    for (let i = 0; i < count; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const at = Math.max(this.next, this.context.currentTime + 0.05);
    if (this.started === null) this.started = at;
    source.start(at);
    this.next = at + buffer.duration;
    this.scheduled += buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      if (this.finished && this.sources.size === 0) this.resolveEnded(this.context.currentTime - this.started);
    };
  }

  /** Resolves with the seconds the graph played, from the first sample's start to the last one's end. */
  finish() {
    this.finished = true;
    if (this.sources.size === 0) this.resolveEnded(0);
    return this.ended;
  }

  stop() {
    for (const source of this.sources) source.stop();
    this.context.close();
  }
}

/** Appends mp3 chunks to a MediaSource as they arrive, so the audio element plays while it streams. */
class StreamingMP3 {
  static supported() { return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported("audio/mpeg"); }

  constructor(audio) {
    this.audio = audio;
    this.source = new MediaSource();
    this.queue = [];
    this.done = false;
    audio.src = URL.createObjectURL(this.source);
    this.ready = new Promise((resolve) => this.source.addEventListener("sourceopen", () => {
      URL.revokeObjectURL(audio.src);
      this.buffer = this.source.addSourceBuffer("audio/mpeg");
      this.buffer.mode = "sequence";
      this.buffer.addEventListener("updateend", () => this.drain());
      resolve();
    }, { once: true }));
  }

  async push(bytes) {
    await this.ready;
    this.queue.push(bytes);
    this.drain();
    if (this.audio.paused && !this.playRequested) {
      this.playRequested = true;
      this.audio.play().catch(() => {});
    }
  }

  drain() {
    if (!this.buffer || this.buffer.updating) return;
    if (this.queue.length) this.buffer.appendBuffer(this.queue.shift());
    else if (this.done && this.source.readyState === "open") this.source.endOfStream();
  }

  async finish() {
    await this.ready;
    this.done = true;
    this.drain();
  }
}

/** Seconds the audio element plays from now to its `ended` event, by its own clock. */
function playedOnElement(audio) {
  return new Promise((resolve) => {
    audio.addEventListener("ended", () => resolve(audio.currentTime), { once: true });
  });
}

async function speak(event) {
  event.preventDefault();
  if (current) current.stop();
  resetResult();
  const format = $("format").value;
  const speed = Number($("speed").value);
  if (!(speed >= 0.25 && speed <= 4)) {
    show($("speak-error"), "Speed must be between 0.25 and 4.");
    return;
  }
  const body = { model: $("model").value, input: $("text").value, voice: $("voice").value || undefined,
    response_format: format, speed };
  const audio = $("player");
  audio.pause();
  audio.removeAttribute("src");
  const controller = new AbortController();
  let player = null;
  current = { stop: () => { controller.abort(); if (player instanceof PCMPlayer) player.stop(); audio.pause(); } };
  $("stop").disabled = false;
  $("speak").disabled = true;
  $("speak-status").textContent = "Requesting…";
  const chunks = [];
  const started = performance.now();
  try {
    const response = await fetch(`${API}/audio/speech`, {
      method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) throw await failure(response);
    const id = response.headers.get("X-Generation-Id");
    player = format === "pcm" ? new PCMPlayer() : format === "mp3" && StreamingMP3.supported() ? new StreamingMP3(audio) : null;
    const played = player instanceof StreamingMP3 ? playedOnElement(audio) : null;
    let firstAudio = null;
    const reader = response.body.getReader();
    $("speak-status").textContent = "Streaming…";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!value.length) continue;
      if (firstAudio === null) firstAudio = performance.now() - started;
      chunks.push(value);
      if (player) await player.push(value);
    }
    const blob = new Blob(chunks, { type: response.headers.get("Content-Type") || "application/octet-stream" });
    offerDownload(blob, id, format);
    $("result").hidden = false;
    $("first-audio").textContent = firstAudio === null ? "no audio" : `${Math.round(firstAudio)} ms`;
    $("generation-id").textContent = id || "";
    if (id) showGeneration(id);
    $("speak-status").textContent = "Playing…";
    let playedSeconds;
    if (player instanceof PCMPlayer) {
      const total = blob.size / 2 / PCM_RATE;
      $("duration").textContent = seconds(total);
      playedSeconds = await player.finish();
    } else {
      if (player) await player.finish();
      else { audio.src = URL.createObjectURL(blob); audio.play().catch(() => {}); }
      const whole = player ? played : playedOnElement(audio);
      await new Promise((resolve) => {
        if (Number.isFinite(audio.duration)) resolve();
        else audio.addEventListener("durationchange", () => Number.isFinite(audio.duration) && resolve());
      });
      $("duration").textContent = seconds(audio.duration);
      playedSeconds = await whole;
    }
    $("played").textContent = seconds(playedSeconds);
    $("played").dataset.seconds = String(playedSeconds);
    $("speak-status").textContent = "Done.";
  } catch (error) {
    if (error.name === "AbortError") $("speak-status").textContent = "Stopped.";
    else { $("speak-status").textContent = ""; show($("speak-error"), error.message); }
  } finally {
    $("stop").disabled = true;
    $("speak").disabled = false;
  }
}

function offerDownload(blob, id, format) {
  const link = $("download");
  link.href = URL.createObjectURL(blob);
  link.download = `${id || "speech"}.${format}`;
  link.hidden = false;
}

/** The generation's characters and cost, once the gateway has recorded its end. */
async function showGeneration(id) {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const { data } = await api(`/generation?id=${encodeURIComponent(id)}`);
      $("characters").textContent = String(data.tokens_prompt);
      $("cost").textContent = usd(data.total_cost);
      if (data.status !== "running") return;
    } catch (error) {
      $("cost").textContent = error.message;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// MARK: Dashboard

let dashboard = { keys: [], generations: [] };

async function refreshDashboard() {
  show($("dashboard-error"), "");
  try {
    const [keys, generations] = await Promise.all([api("/keys"), api("/generations?limit=200")]);
    dashboard = { keys: keys.data, generations: generations.data };
  } catch (error) {
    show($("dashboard-error"), error.message);
    return;
  }
  renderKeys();
  renderCharts();
  renderGenerations();
}

function cell(content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.append(content); else td.textContent = content;
  return td;
}

function button(text, label, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", action);
  return element;
}

async function patchKey(hash, body) {
  show($("dashboard-error"), "");
  try {
    await api(`/keys/${encodeURIComponent(hash)}`, { method: "PATCH", body: JSON.stringify(body) });
    await refreshDashboard();
  } catch (error) {
    show($("dashboard-error"), error.message);
  }
}

function renderKeys() {
  const rows = dashboard.keys.map((key) => {
    const row = document.createElement("tr");
    const limit = document.createElement("input");
    limit.type = "number"; limit.min = "0"; limit.max = "1000000000"; limit.step = "any";
    limit.value = key.limit ?? "";
    limit.setAttribute("aria-label", `Limit in USD for ${key.name}`);
    const reset = document.createElement("select");
    reset.setAttribute("aria-label", `Limit reset for ${key.name}`);
    for (const value of ["", "daily", "weekly", "monthly"]) reset.add(new Option(value || "never", value, false, (key.limit_reset || "") === value));
    const actions = document.createElement("div");
    actions.className = "actions";
    actions.append(
      button("Save limit", `Save limit of ${key.name}`, () => {
        const text = limit.value.trim();
        patchKey(key.hash, { limit: text === "" ? null : Number(text), limit_reset: reset.value || null });
      }),
      button(key.disabled ? "Enable" : "Disable", `${key.disabled ? "Enable" : "Disable"} ${key.name}`,
        () => patchKey(key.hash, { disabled: !key.disabled })),
    );
    row.append(cell(key.name + (key.is_management_key ? " (management)" : "")), cell(key.label),
      cell(key.disabled ? "disabled" : "active"), cell(limit), cell(reset), cell(usd(key.usage)),
      cell(key.limit_remaining == null ? "no limit" : usd(key.limit_remaining)), cell(actions));
    return row;
  });
  $("keys").tBodies[0].replaceChildren(...rows);
}

async function createKey(event) {
  event.preventDefault();
  show($("dashboard-error"), "");
  const limit = $("new-limit").value.trim();
  const body = { name: $("new-name").value, limit: limit === "" ? null : Number(limit), limit_reset: $("new-reset").value || null };
  try {
    const created = await api("/keys", { method: "POST", body: JSON.stringify(body) });
    $("new-secret").textContent = created.key;
    $("new-secret-box").hidden = false;
    $("create-key").reset();
    $("copy-secret").focus();
    await refreshDashboard();
  } catch (error) {
    show($("dashboard-error"), error.message);
  }
}

function keyName(hash) {
  return dashboard.keys.find((key) => key.hash === hash)?.name || `${hash.slice(0, 8)}…`;
}

const PALETTE = ["#1f5fbf", "#d9730d", "#2e8540", "#b3245d", "#6b4fbb", "#00838f", "#8d6e00", "#5b636e"];
const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** A stacked bar chart of `generations` over time, one colour per `group(generation)`. */
function drawChart(container, generations, group, measure) {
  const value = (generation) => (measure === "cost" ? generation.total_cost : generation.tokens_prompt);
  if (!generations.length) { container.textContent = "No generations yet."; return; }
  const times = generations.map((generation) => Date.parse(generation.created_at));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const bucketCount = 12;
  const width = Math.max(last - first, 60_000) / bucketCount;
  const names = [...new Set(generations.map(group))];
  const buckets = Array.from({ length: bucketCount }, () => new Map());
  generations.forEach((generation, index) => {
    const bucket = Math.min(bucketCount - 1, Math.floor((times[index] - first) / width));
    const name = group(generation);
    buckets[bucket].set(name, (buckets[bucket].get(name) || 0) + value(generation));
  });
  const totals = buckets.map((bucket) => [...bucket.values()].reduce((a, b) => a + b, 0));
  const top = Math.max(...totals) || 1;
  const [w, h, left, bottom] = [600, 180, 56, 22];
  const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img",
    "aria-label": `${measure} per ${bucketCount} time slices, largest ${measure === "cost" ? usd(top) : top}` });
  chart.append(svg("line", { x1: left, y1: h - bottom, x2: w, y2: h - bottom, stroke: "#d3d8de" }));
  const label = (text, x, y, anchor) => {
    const element = svg("text", { x, y, "text-anchor": anchor });
    element.textContent = text;
    chart.append(element);
  };
  label(measure === "cost" ? usd(top) : String(top), left - 4, 12, "end");
  label("0", left - 4, h - bottom, "end");
  const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  label(time(first), left, h - 6, "start");
  label(time(last), w, h - 6, "end");
  const slot = (w - left) / bucketCount;
  buckets.forEach((bucket, index) => {
    let y = h - bottom;
    for (const [name, amount] of bucket) {
      const height = (amount / top) * (h - bottom - 16);
      y -= height;
      const bar = svg("rect", { x: left + index * slot + 2, y, width: slot - 4, height, fill: PALETTE[names.indexOf(name) % PALETTE.length] });
      const title = svg("title", {});
      title.textContent = `${name}: ${measure === "cost" ? usd(amount) : amount}`;
      bar.append(title);
      chart.append(bar);
    }
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  names.forEach((name, index) => {
    const item = document.createElement("span");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = PALETTE[index % PALETTE.length];
    item.append(swatch, name);
    legend.append(item);
  });
  container.replaceChildren(chart, legend);
}

function renderCharts() {
  const measure = $("measure").value;
  drawChart($("chart-keys"), dashboard.generations, (generation) => keyName(generation.key_hash), measure);
  drawChart($("chart-models"), dashboard.generations, (generation) => generation.model, measure);
}

function renderGenerations() {
  const rows = dashboard.generations.slice(0, 50).map((generation) => {
    const row = document.createElement("tr");
    row.append(cell(new Date(generation.created_at).toLocaleString()), cell(keyName(generation.key_hash)),
      cell(generation.model), cell(generation.provider_name), cell(generation.status),
      cell(String(generation.tokens_prompt)), cell(usd(generation.total_cost)),
      cell(generation.latency == null ? "—" : `${generation.latency} ms`), cell(generation.id));
    return row;
  });
  $("generations").tBodies[0].replaceChildren(...rows);
}

// MARK: Start

setUpKey();
setUpTabs();
$("speak-form").addEventListener("submit", speak);
$("stop").addEventListener("click", () => current && current.stop());
$("refresh").addEventListener("click", refreshDashboard);
$("create-key").addEventListener("submit", createKey);
$("measure").addEventListener("change", renderCharts);
$("copy-secret").addEventListener("click", () => navigator.clipboard?.writeText($("new-secret").textContent));
$("hide-secret").addEventListener("click", () => { $("new-secret").textContent = ""; $("new-secret-box").hidden = true; });
loadModels();
