// `/`: grab links (with a look-up per link as you type), upload a file, and follow every job
// live from the global event stream.
import { ApiError, followEvents, getJSON, request, sendJSON, setUpKeyButton } from "./api.js";
import { linkTo, fileLink } from "./files.js";
import { ACTIVE, TERMINAL, bytes, clock, el, showError } from "./ui.js";

const $ = (id) => document.getElementById(id);

// ---- links and their look-up ----------------------------------------------------------------

const lookups = new Map(); // url -> Promise of {info} or {error}
// Links looked up as you type (each is a request, and requests are rate limited).
const MAX_LOOKUPS = 25;

function linksOf(text) {
  const seen = new Set();
  for (const line of text.split(/\r?\n/)) {
    const url = line.trim();
    if (url && !url.startsWith("#")) seen.add(url);
  }
  return [...seen];
}

const lookupKey = (url) => `${$("fetch-titles").checked ? "fetch " : ""}${url}`;

function lookUp(url) {
  const key = lookupKey(url);
  if (!lookups.has(key)) {
    lookups.set(key, sendJSON("POST", "/api/resolve", { url, fetch: $("fetch-titles").checked })
      .then((info) => ({ info }), (error) => ({ error })));
  }
  return lookups.get(key);
}

const PLAYLIST_WORDS = {
  refused: "a playlist: refused (submit its items one by one)",
  item_only: "this item only, not its playlist",
  expanded: "the playlist",
};

function describe(info) {
  const parts = [`${info.platform_name}`, info.kind];
  if (info.playlist !== "none") parts.push(PLAYLIST_WORDS[info.playlist]);
  if (info.media_kinds.includes("video")) parts.push("audio or video");
  if (info.media && info.media.title) {
    parts.push(info.media.duration ? `“${info.media.title}” (${clock(info.media.duration)})` : `“${info.media.title}”`);
  }
  return parts.join(" · ");
}

let lookupTimer = null;
async function showLookups() {
  const all = linksOf($("links").value);
  const urls = all.slice(0, MAX_LOOKUPS);
  const list = $("lookups");
  const items = urls.map((url) => {
    const item = el("li", { "data-url": url }, el("span", { className: "url", text: url }), el("span", { className: "muted", text: "looking up…" }));
    lookUp(url).then(({ info, error }) => {
      const answer = item.lastChild;
      if (error) {
        answer.className = "error";
        answer.textContent = `${error.message} (${error.code})`;
        item.dataset.ok = "false";
      } else {
        answer.className = "";
        answer.textContent = describe(info);
        item.dataset.ok = info.playlist === "refused" ? "false" : "true";
        item.dataset.kind = info.kind;
        item.dataset.platform = info.platform;
      }
    });
    return item;
  });
  if (all.length > urls.length) {
    items.push(el("li", { className: "muted", text: `…and ${all.length - urls.length} more, checked when you grab them.` }));
  }
  list.replaceChildren(...items);
}

function linksChanged() {
  clearTimeout(lookupTimer);
  lookupTimer = setTimeout(showLookups, 250);
}

function setUpLinks() {
  const area = $("links");
  area.addEventListener("input", linksChanged);
  $("fetch-titles").addEventListener("change", linksChanged);
  area.addEventListener("dragover", (event) => { event.preventDefault(); area.classList.add("over"); });
  area.addEventListener("dragleave", () => area.classList.remove("over"));
  area.addEventListener("drop", async (event) => {
    const file = event.dataTransfer.files[0];
    if (!file) return;
    event.preventDefault();
    area.classList.remove("over");
    const text = await file.text();
    area.value = [area.value.trim(), text.trim()].filter(Boolean).join("\n");
    linksChanged();
  });
  $("video").addEventListener("change", () => {
    const video = $("video").checked;
    if (video) $("format").value = "mp4";
    $("format").disabled = video;
  });
}

function requestBody(url) {
  const video = $("video").checked;
  const body = {
    url,
    format: video ? "mp4" : $("format").value,
    quality: $("quality").value,
    media: video ? "video" : "audio",
    priority: Number($("priority").value) || 5,
    transcribe: $("transcribe").checked,
  };
  const language = $("language").value.trim();
  if (body.transcribe && language) body.transcription = { language };
  return body;
}

async function submit(event) {
  event.preventDefault();
  const urls = linksOf($("links").value);
  const error = $("links-error");
  showError(error, null);
  if (!urls.length) {
    $("links").setAttribute("aria-invalid", "true");
    error.textContent = "Paste at least one link.";
    $("links").focus();
    return;
  }
  $("links").setAttribute("aria-invalid", "false");
  $("submit").disabled = true;
  const failed = [];
  let queued = 0;
  const refuse = (url, problem) => {
    failed.push(url);
    lookups.set(lookupKey(url), Promise.resolve({ error: problem }));
  };
  const { url: _, transcription, ...options } = requestBody("");
  if (urls.length > 1 && !transcription) {
    // One request for many links (the rate limit counts requests); refusals come per line.
    try {
      const batch = await sendJSON("POST", "/api/batches", { urls, ...options });
      queued = batch.total;
      for (const line of batch.rejected) refuse(urls[line.line - 1], { code: line.code, message: line.message });
    } catch (problem) {
      showError(error, problem);
    }
  } else {
    for (const url of urls) {
      try {
        jobs.add(await sendJSON("POST", "/api/downloads", requestBody(url)));
        queued += 1;
      } catch (problem) {
        refuse(url, problem);
      }
    }
  }
  $("submit").disabled = false;
  $("grab-status").textContent = `${queued} queued${failed.length ? `, ${failed.length} refused` : ""}.`;
  $("links").value = failed.join("\n");
  if (failed.length) {
    error.textContent = "Some links were refused: the reason is next to each.";
  }
  showLookups();
}

// ---- upload ----------------------------------------------------------------------------------

async function upload(file) {
  showError($("upload-error"), null);
  $("upload-status").textContent = `Uploading ${file.name}…`;
  const form = new FormData();
  form.append("file", file);
  const { url, transcription, ...options } = requestBody(file.name);
  for (const [name, value] of Object.entries(options)) form.append(name, String(value));
  if (transcription) form.append("language", transcription.language);
  try {
    const response = await request("POST", "/api/uploads", { body: form });
    const job = await response.json();
    jobs.add(job);
    $("upload-status").replaceChildren(`${file.name} uploaded: `, el("a", { href: `/jobs/${job.id}`, text: "its job" }), ".");
  } catch (error) {
    $("upload-status").textContent = "";
    showError($("upload-error"), error);
  }
}

function setUpUpload() {
  const drop = $("upload-drop");
  const input = $("upload-file");
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) upload(file);
  });
}

// ---- jobs, live --------------------------------------------------------------------------------

const FILTERS = {
  "": [],
  active: ["downloading", "converting", "transcribing"],
  queued: ["queued"],
  completed: ["completed"],
  failed: ["failed"],
  cancelled: ["cancelled"],
};

function progressWords(state, progress) {
  if (!progress || !ACTIVE.has(state)) return "";
  const parts = [];
  if (progress.percent !== null && progress.percent !== undefined) parts.push(`${progress.percent.toFixed(0)} %`);
  if (progress.downloaded_bytes) {
    parts.push(progress.total_bytes ? `${bytes(progress.downloaded_bytes)} of ${bytes(progress.total_bytes)}` : bytes(progress.downloaded_bytes));
  }
  if (progress.speed) parts.push(`${bytes(progress.speed)}/s`);
  if (progress.eta) parts.push(`${clock(progress.eta)} left`);
  return parts.join(" · ");
}

class JobRow {
  constructor(job) {
    this.job = job;
    this.progress = null;
    this.title = el("a", { className: "title", href: `/jobs/${job.id}` });
    this.state = el("span", { className: "badge" });
    this.platform = el("span", { className: "muted" });
    this.place = el("span", { className: "muted" });
    this.bar = el("progress", { max: "100", "aria-label": "Progress" });
    this.words = el("span", { className: "muted" });
    this.error = el("p", { className: "error", role: "alert" });
    this.actions = el("div", { className: "job-actions" });
    this.node = el("li", { "data-job-id": job.id },
      el("div", { className: "job-head" }, this.title, this.state, this.platform, this.place),
      this.bar, this.words, this.error, this.actions);
    this.render();
    this.renderActions();
  }

  update(job) {
    const actionsChange = job.state !== this.job.state || job.file_url !== this.job.file_url;
    this.job = job;
    if (TERMINAL.has(job.state) || job.state === "queued") this.progress = null;
    this.render();
    if (actionsChange) this.renderActions();
  }

  setProgress(kind, progress, percent) {
    this.progress = kind === "download" ? progress : { ...(this.progress || {}), percent };
    this.render();
  }

  render() {
    const { job } = this;
    this.node.dataset.state = job.state;
    this.title.textContent = (job.media && job.media.title) || job.request.url;
    this.state.textContent = job.state;
    this.state.className = `badge state-${job.state}`;
    this.platform.textContent = `${job.platform} · ${job.request.format}${job.request.transcribe ? " · transcript" : ""} · priority ${job.priority}`;
    const running = ACTIVE.has(job.state);
    const percent = this.progress && this.progress.percent;
    this.bar.hidden = !running && job.state !== "completed";
    if (job.state === "completed") this.bar.value = 100;
    else if (percent !== null && percent !== undefined) this.bar.value = percent;
    else this.bar.removeAttribute("value");
    this.words.textContent = running ? `${job.state}${this.progress ? ": " + progressWords(job.state, this.progress) : "…"}` : "";
    this.error.textContent = job.error ? `${job.error.message} (${job.error.code})` : "";
  }

  renderActions() {
    const { job } = this;
    const buttons = [];
    if (!TERMINAL.has(job.state)) {
      buttons.push(el("button", { type: "button", className: "danger", "data-action": "cancel", text: "Cancel", onclick: () => this.act(() => request("DELETE", `/api/jobs/${job.id}`)) }));
    }
    if (job.state === "failed" || job.state === "cancelled") {
      buttons.push(el("button", { type: "button", "data-action": "retry", text: "Retry", onclick: () => this.act(() => request("POST", `/api/jobs/${job.id}/retry`)) }));
    }
    if (job.state === "queued") {
      const id = `priority-${job.id}`;
      const input = el("input", { id, type: "number", min: "1", max: "10", value: String(job.priority) });
      buttons.push(el("label", { for: id, className: "visually-hidden", text: "Priority" }), input,
        el("button", { type: "button", "data-action": "priority", text: "Set priority", onclick: () => this.act(() => sendJSON("PATCH", `/api/queue/${job.id}`, { priority: Number(input.value) })) }));
    }
    if (job.state === "completed" && job.file_url) {
      buttons.push(fileLink(job.file_url, "Download", { "data-action": "download" }));
    }
    buttons.push(linkTo(`/jobs/${job.id}`, "Details"));
    if (TERMINAL.has(job.state)) buttons.push(this.removeButton());
    this.actions.replaceChildren(...buttons);
  }

  /** "Remove", then "Remove the job and its file?" to confirm (no blocking dialog). */
  removeButton() {
    const button = el("button", { type: "button", className: "danger", "data-action": "remove", text: "Remove" });
    button.addEventListener("click", () => {
      if (!button.dataset.armed) {
        button.dataset.armed = "true";
        button.textContent = "Remove the job and its file?";
        return;
      }
      this.act(async () => {
        await request("POST", `/api/jobs/${this.job.id}/remove`);
        jobs.forget(this.job.id);
      });
    });
    button.addEventListener("blur", () => {
      delete button.dataset.armed;
      button.textContent = "Remove";
    });
    return button;
  }

  async act(action) {
    this.error.textContent = "";
    try {
      await action();
    } catch (error) {
      showError(this.error, error);
    }
  }
}

const jobs = {
  rows: new Map(),
  filter: "",

  matches(job) {
    const states = FILTERS[this.filter];
    return !states.length || states.includes(job.state);
  },

  /** A new job's row; a job already shown is left to its events (an answer that arrives
   * after them would show an older state). */
  add(job) {
    if (this.rows.has(job.id)) return;
    if (!this.matches(job)) return;
    const created = new JobRow(job);
    this.rows.set(job.id, created);
    $("jobs").prepend(created.node);
    $("jobs-empty").hidden = true;
    queue.refresh();
  },

  forget(id) {
    this.rows.get(id)?.node.remove();
    this.rows.delete(id);
    $("jobs-empty").hidden = this.rows.size > 0;
  },

  async load() {
    const query = FILTERS[this.filter].map((state) => `&state=${state}`).join("");
    const page = await getJSON(`/api/jobs?limit=100${query}`);
    this.rows.clear();
    const rows = page.jobs.map((job) => new JobRow(job));
    for (const row of rows) this.rows.set(row.job.id, row);
    $("jobs").replaceChildren(...rows.map((row) => row.node));
    $("jobs-empty").hidden = rows.length > 0;
    await queue.refresh();
  },

  onEvent(event) {
    const row = this.rows.get(event.job_id);
    switch (event.type) {
      case "job.submitted":
        if (!row) this.add(submittedJob(event));
        return;
      case "download.progress":
        row?.setProgress("download", event.progress);
        return;
      case "convert.progress":
        row?.setProgress("convert", null, event.progress.percent);
        return;
      case "transcript.segment":
        row?.setProgress("transcript", null, event.percent);
        return;
      case "job.state":
        if (row) row.update({ ...row.job, state: event.state, error: null });
        break;
      case "job.media":
        if (row) row.update({ ...row.job, media: event.media });
        return;
      case "job.priority":
        if (row) row.update({ ...row.job, priority: event.priority });
        break;
      case "job.completed":
        if (row) row.update({ ...row.job, state: "completed", error: null, file_url: `/api/jobs/${event.job_id}/file` });
        break;
      case "job.failed":
        if (row) row.update({ ...row.job, state: "failed", error: event.error });
        break;
      case "job.cancelled":
        if (row) row.update({ ...row.job, state: "cancelled" });
        break;
      case "job.retry":
        if (row) row.update({ ...row.job, state: "queued", error: event.error, retry_at: event.retry_at });
        break;
      default:
        return;
    }
    queue.refresh();
  },
};

/** The job a `job.submitted` event describes, as `GET /api/jobs/{id}` would show it. */
function submittedJob(event) {
  return {
    id: event.job_id,
    state: "queued",
    platform: event.platform,
    request: event.request,
    priority: event.request.priority,
    created_at: event.at,
    updated_at: event.at,
    attempts: 0,
    media: null,
    error: null,
    file_url: null,
  };
}

const queue = {
  timer: null,
  refresh() {
    clearTimeout(this.timer);
    return new Promise((resolve) => {
      this.timer = setTimeout(async () => {
        try {
          const snapshot = await getJSON("/api/queue");
          const places = new Map(snapshot.waiting.map((job, index) => [job.id, index + 1]));
          for (const [id, row] of jobs.rows) {
            const place = places.get(id);
            row.place.textContent = place ? `#${place} in queue` : "";
          }
        } catch (error) {
          showError($("jobs-error"), error);
        }
        resolve();
      }, 150);
    });
  },
};

async function follow() {
  const status = $("feed-status");
  const controller = new AbortController();
  addEventListener("pagehide", () => controller.abort());
  const head = await getJSON("/api/events/head");
  await jobs.load();
  await followEvents("/api/events", {
    lastId: head.last_event_id,
    signal: controller.signal,
    onEvent: (event) => jobs.onEvent(event),
    onState: (state, error) => {
      document.body.dataset.feed = state;
      status.textContent = state === "open" ? "Live." : state === "reconnecting" ? "Connection lost; reconnecting…" : "";
      if (error) showError($("jobs-error"), error);
    },
  });
}

function setUpFilters() {
  for (const radio of document.querySelectorAll("#filters input[name=state]")) {
    radio.addEventListener("change", () => {
      jobs.filter = radio.value;
      jobs.load().catch((error) => showError($("jobs-error"), error));
    });
  }
}

setUpKeyButton();
setUpLinks();
setUpUpload();
setUpFilters();
$("grab-form").addEventListener("submit", submit);
follow().catch((error) => {
  if (!(error instanceof ApiError)) throw error;
  showError($("jobs-error"), error);
});
