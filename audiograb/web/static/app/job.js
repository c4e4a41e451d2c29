// `/jobs/{id}`: one job's event timeline, its media in a player fed by the file route, the
// transcript beside it (the segment being played highlighted, a click seeks), exports, and
// annotations shown on the transcript and added from it.
import { currentKey, followEvents, getJSON, request, sendJSON, setUpKeyButton } from "./api.js";
import { fileLink, mediaSource } from "./files.js";
import { ACTIVE, TERMINAL, bytes, clock, el, showError, when } from "./ui.js";

const $ = (id) => document.getElementById(id);
const jobId = decodeURIComponent(location.pathname.split("/").pop());
const base = `/api/jobs/${encodeURIComponent(jobId)}`;

let job = null;
let player = null;
const segments = new Map(); // index -> {segment, node}
let threads = [];
let chosen = null; // the segment a note goes on
let lastSeq = null; // the last event of the job seen (its `seq`)

// ---- the job ----------------------------------------------------------------------------------

function showJob() {
  document.title = `${(job.media && job.media.title) || "Job"} · AudioGrab`;
  $("job-title").textContent = (job.media && job.media.title) || job.request.url;
  $("job-state").textContent = job.state;
  $("job-state").className = `badge state-${job.state}`;
  document.body.dataset.state = job.state;
  $("job-platform").textContent = `${job.platform} · ${job.request.format}`;
  $("job-error").textContent = job.error ? `${job.error.message} (${job.error.code})` : "";
  if (!ACTIVE.has(job.state)) $("job-progress").textContent = "";
  showActions();
  if (job.state === "completed") showMedia();
}

let shownActionsFor = null;
/** Cancel while the job runs or waits, retry once it failed or was cancelled. */
function showActions() {
  if (shownActionsFor === job.state) return;
  shownActionsFor = job.state;
  const act = (label, name, method, path) => el("button", {
    type: "button", "data-action": name, className: name === "cancel" ? "danger" : null, text: label,
    onclick: async () => {
      showError($("job-error"), null);
      try {
        await request(method, path);
        await refetch();
        if (!TERMINAL.has(job.state)) follow();
      } catch (error) {
        showError($("job-error"), error);
      }
    },
  });
  const buttons = [];
  if (!TERMINAL.has(job.state)) buttons.push(act("Cancel", "cancel", "DELETE", base));
  if (job.state === "failed" || job.state === "cancelled") buttons.push(act("Retry", "retry", "POST", `${base}/retry`));
  $("job-actions").replaceChildren(...buttons);
}

async function refetch() {
  job = await getJSON(base);
  showJob();
}

let showing = false;
async function showMedia() {
  if (showing || !job.file_url) return;
  showing = true;
  const downloads = [fileLink(job.file_url, "Download the file", { "data-action": "download" })];
  $("downloads").replaceChildren(...downloads);
  // A transcript-only job's file is its transcript (JSON): there is nothing to play.
  const type = (await request("HEAD", job.file_url)).headers.get("content-type") || "";
  if (type.startsWith("application/json")) {
    $("player-box").replaceChildren(el("p", { className: "muted", text: "Only the transcript was kept." }));
    return;
  }
  const video = type.startsWith("video/") || job.request.media === "video";
  player = el(video ? "video" : "audio", { className: "player", controls: true, preload: "metadata", "aria-label": video ? "Video" : "Audio" });
  player.addEventListener("timeupdate", highlight);
  player.addEventListener("seeked", highlight);
  $("player-box").replaceChildren(player);
  player.src = await mediaSource(job.file_url);
}

// ---- the timeline -----------------------------------------------------------------------------

function summary(event) {
  switch (event.type) {
    case "job.submitted": return `submitted (${event.platform})`;
    case "job.state": return `${event.state}`;
    case "job.media": return `media: ${event.media.title || "untitled"}${event.media.duration ? ` (${clock(event.media.duration)})` : ""}`;
    case "job.completed": return `completed: ${bytes(event.size_bytes)}${event.duration ? `, ${clock(event.duration)}` : ""}`;
    case "job.failed": return `failed: ${event.error.message} (${event.error.code})`;
    case "job.cancelled": return "cancelled";
    case "job.priority": return `priority ${event.previous} → ${event.priority}`;
    case "job.retry": return `retry ${event.retry} after ${event.error.code}`;
    default: return null;
  }
}

function progressOf(event) {
  if (event.type === "download.progress") {
    const p = event.progress;
    const parts = ["downloading"];
    if (p.percent !== null && p.percent !== undefined) parts.push(`${p.percent.toFixed(0)} %`);
    if (p.downloaded_bytes) parts.push(bytes(p.downloaded_bytes));
    if (p.speed) parts.push(`${bytes(p.speed)}/s`);
    if (p.eta) parts.push(`${clock(p.eta)} left`);
    return parts.join(" · ");
  }
  if (event.type === "convert.progress") return `converting${event.progress.percent ? ` · ${event.progress.percent.toFixed(0)} %` : ""}`;
  if (event.type === "transcript.segment") return `transcribing${event.percent ? ` · ${event.percent.toFixed(0)} %` : ""}`;
  return null;
}

function onEvent(event) {
  const progress = progressOf(event);
  if (progress) $("job-progress").textContent = progress;
  if (event.type === "transcript.segment") addSegment(event.segment);
  const text = summary(event);
  if (text) {
    $("timeline").append(el("li", { "data-type": event.type },
      el("time", { datetime: new Date(event.at * 1000).toISOString(), text: when(event.at) }), text));
  }
  if (event.type === "job.state" && job) { job = { ...job, state: event.state }; showJob(); }
  if (event.type === "job.media" && job) { job = { ...job, media: event.media }; showJob(); }
  if (TERMINAL.has(event.type.replace("job.", "")) || event.type === "job.retry") {
    refetch().then(() => job.state === "completed" && job.request.transcribe && loadTranscript());
  }
}

// ---- the transcript ---------------------------------------------------------------------------

function addSegment(segment) {
  const old = segments.get(segment.index);
  const button = el("button", { type: "button", className: "seg", onclick: () => seek(segment) },
    el("span", { className: "time", text: clock(segment.start) }), segment.text.trim());
  const node = el("li", { "data-index": String(segment.index), "data-start": String(segment.start), "data-end": String(segment.end) }, button);
  if (old) old.node.replaceWith(node);
  else $("segments").append(node);
  segments.set(segment.index, { segment, node });
  $("note-add-row")?.removeAttribute("hidden");
}

function seek(segment) {
  chosen = segment;
  if (player) {
    player.currentTime = segment.start + 0.01;
    player.play().catch(() => {});
  }
  highlightSegment(segment.index);
}

let current = null;
function highlightSegment(index) {
  if (current === index) return;
  if (current !== null) {
    const old = segments.get(current);
    old?.node.classList.remove("current");
    old?.node.removeAttribute("aria-current");
  }
  current = index;
  const found = index === null ? null : segments.get(index);
  if (found) {
    found.node.classList.add("current");
    found.node.setAttribute("aria-current", "true");
    chosen = found.segment;
    const box = $("segments");
    const top = found.node.offsetTop - box.offsetTop;
    if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - found.node.offsetHeight) box.scrollTop = top;
  }
}

function highlight() {
  const time = player.currentTime;
  let found = null;
  for (const { segment } of segments.values()) {
    if (time >= segment.start && time < segment.end) { found = segment.index; break; }
  }
  if (found !== null) highlightSegment(found);
}

async function loadTranscript() {
  try {
    const transcript = await getJSON(`${base}/transcript?format=json`);
    for (const segment of transcript.segments) addSegment(segment);
    await loadNotes();
  } catch (error) {
    showError($("job-error"), error);
  }
}

function showExports() {
  $("exports").replaceChildren(...["txt", "srt", "vtt", "json"].map((format) =>
    fileLink(`${base}/transcript?format=${format}`, format.toUpperCase(), { "data-format": format, "aria-label": `Export the transcript as ${format}` })));
}

// ---- annotations ------------------------------------------------------------------------------

async function loadNotes() {
  threads = await getJSON(`${base}/annotations`);
  for (const note of document.querySelectorAll("#segments .note")) note.remove();
  for (const { annotation, replies } of threads) {
    const target = [...segments.values()].find(({ segment }) =>
      annotation.start !== null && annotation.start >= segment.start && annotation.start < segment.end);
    const box = el("div", { className: "note", "data-annotation": annotation.id },
      el("strong", { text: `${annotation.author}: ` }), annotation.text,
      replies.map((reply) => el("div", { className: "muted", text: `${reply.author}: ${reply.text}` })));
    (target ? target.node : $("segments").lastElementChild)?.append(box);
  }
}

function setUpNotes() {
  const row = el("p", { id: "note-add-row", className: "row", hidden: true },
    el("button", { type: "button", id: "note-add", text: "Add a note to the segment playing", onclick: openNote }));
  $("note-form").before(row);
  $("note-cancel").addEventListener("click", () => { $("note-form").hidden = true; $("note-add").focus(); });
  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) { $("note-error").textContent = "Write the note first."; $("note-text").focus(); return; }
    try {
      await sendJSON("POST", `${base}/annotations`, { text, start: chosen.start, end: chosen.end });
      $("note-text").value = "";
      $("note-form").hidden = true;
      await loadNotes();
    } catch (error) {
      showError($("note-error"), error);
    }
  });
}

function openNote() {
  chosen = chosen || segments.values().next().value?.segment;
  if (!chosen) return;
  $("note-at").textContent = `${clock(chosen.start)}–${clock(chosen.end)}`;
  $("note-error").textContent = "";
  $("note-form").hidden = false;
  $("note-text").focus();
}

/** Others' notes as they come (the socket takes no header, so only when no key is needed). */
function watchNotes() {
  if (currentKey()) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${base}/annotations/ws`);
  socket.addEventListener("message", () => loadNotes().catch(() => {}));
  addEventListener("pagehide", () => socket.close());
}

// ---- start ------------------------------------------------------------------------------------

async function start() {
  setUpKeyButton();
  try {
    await refetch();
  } catch (error) {
    showError($("job-error"), error);
    return;
  }
  if (job.request.transcribe) {
    showExports();
    setUpNotes();
    if (job.state === "completed") await loadTranscript();
    watchNotes();
  } else {
    $("no-transcript").hidden = false;
  }
  await follow();
}

let following = null;
/** Follow the job's events: its whole log, then live ones. The server ends the stream after a
 * terminal event and answers 204 once nothing is left; a retry starts following again from
 * the last event seen. */
async function follow() {
  if (following) return;
  const controller = new AbortController();
  addEventListener("pagehide", () => controller.abort());
  following = followEvents(`${base}/events`, {
    signal: controller.signal,
    lastId: lastSeq,
    onEvent: (event, id) => { lastSeq = Number(id); onEvent(event); },
  });
  await following;
  following = null;
}

start();
