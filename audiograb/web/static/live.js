// The /live page: microphone → AudioWorklet (resampled to 16 kHz PCM16) → WebSocket →
// partials and finals on the page. Standard APIs only (Chromium and Firefox).
"use strict";

const FRAME_SAMPLES = 1600; // 100 ms at 16 kHz
const $ = (id) => document.getElementById(id);
const ui = {
  start: $("start"), stop: $("stop"), status: $("status"), language: $("language"),
  lag: $("lag"), finals: $("finals"), stable: $("stable"), unstable: $("unstable"),
  polishedBox: $("polished-box"), polished: $("polished"),
  copy: $("copy"), download: $("download"), clear: $("clear"),
};

let session = null; // { socket, context, stream, node, ready, queue }
const finals = []; // committed utterance texts, in order

function setState(state, message, isError = false) {
  document.body.dataset.state = state;
  ui.status.textContent = message;
  ui.status.classList.toggle("error", isError);
  ui.start.disabled = state === "starting" || state === "live" || state === "stopping";
  ui.stop.disabled = state !== "live";
}

function transcriptText() {
  return finals.join(" ");
}

function showPartial(stable, unstable) {
  ui.stable.textContent = stable;
  ui.unstable.textContent = unstable;
}

function addFinal(message) {
  showPartial("", "");
  if (!message.text) return; // the partials were noise: cleared, nothing to add
  finals.push(message.text);
  ui.finals.textContent = transcriptText();
}

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/transcribe/live`;
}

function onMessage(event) {
  const message = JSON.parse(event.data);
  switch (message.type) {
    case "ready":
      session.ready = true;
      for (const frame of session.queue) session.socket.send(frame);
      session.queue = [];
      setState("live", `Listening (${message.model}). Speak now.`);
      break;
    case "partial":
      showPartial(message.stable, message.unstable);
      break;
    case "final":
      addFinal(message);
      break;
    case "stats":
      ui.lag.textContent = `lag ${message.lag.toFixed(1)} s`;
      ui.lag.classList.toggle("behind", message.lag > 2);
      break;
    case "error":
      setState(message.fatal ? "error" : document.body.dataset.state,
        `${message.message} [${message.code}]`, true);
      if (message.fatal) teardown();
      break;
    case "done":
      if (message.polished) {
        ui.polished.textContent = message.polished;
        ui.polishedBox.hidden = false;
      }
      setState("done", message.polish_error
        ? `Done; polishing failed: ${message.polish_error}` : "Done.");
      session.socket.close();
      session = null;
      break;
  }
}

async function start() {
  setState("starting", "Starting the microphone…");
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const context = new AudioContext(); // the device rate: we resample ourselves
    await context.audioWorklet.addModule("/live/resampler-worklet.js");
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "pcm16-resampler", {
      numberOfOutputs: 1, outputChannelCount: [1],
      processorOptions: { targetRate: 16000, frameSamples: FRAME_SAMPLES },
    });
    const mute = context.createGain();
    mute.gain.value = 0; // keeps the graph pulled without playing the microphone back
    source.connect(node).connect(mute).connect(context.destination);
    const socket = new WebSocket(socketUrl());
    socket.binaryType = "arraybuffer";
    session = { socket, context, stream, node, ready: false, queue: [] };
    node.port.onmessage = (event) => {
      if (!session || session.socket.readyState !== WebSocket.OPEN) return;
      if (session.ready) session.socket.send(event.data);
      else session.queue.push(event.data);
    };
    socket.onopen = () => {
      const start = { type: "start" };
      // The web app's key (kept in this tab by the other pages), else an old-style ?token=.
      const token = sessionStorage.getItem("audiograb.key") || new URLSearchParams(location.search).get("token");
      if (token) start.token = token;
      if (ui.language.value) start.language = ui.language.value;
      socket.send(JSON.stringify(start));
    };
    socket.onmessage = onMessage;
    socket.onclose = () => {
      if (session && session.socket === socket) {
        setState("error", "The connection closed.", true);
        teardown();
      }
    };
    await context.resume();
  } catch (error) {
    setState("error", `Could not start: ${error.message || error}`, true);
    teardown();
  }
}

function stopCapture(current) {
  current.stream.getTracks().forEach((track) => track.stop());
  current.node.port.postMessage("stop"); // the worklet sends its last, short frame
  if (current.context.state !== "closed") current.context.close();
}

function teardown() {
  if (!session) return;
  stopCapture(session);
  if (session.socket.readyState === WebSocket.OPEN) session.socket.close();
  session = null;
}

function stop() {
  if (!session) return;
  const current = session;
  setState("stopping", "Finishing the last words…");
  current.stream.getTracks().forEach((track) => track.stop());
  current.node.port.postMessage("stop");
  // Give the worklet's last frame time to arrive and go out before `stop`.
  setTimeout(() => {
    stopCapture(current);
    if (current.socket.readyState === WebSocket.OPEN) {
      current.socket.send(JSON.stringify({ type: "stop" }));
    }
  }, 150);
}

async function copy() {
  const text = transcriptText();
  try {
    await navigator.clipboard.writeText(text);
    ui.status.textContent = "Copied.";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(ui.finals);
    const selection = getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    ui.status.textContent = "Selected: press Ctrl+C to copy.";
  }
}

function download() {
  let text = transcriptText() + "\n";
  if (!ui.polishedBox.hidden) text += `\n--- polished ---\n${ui.polished.textContent}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `transcript-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function clear() {
  finals.length = 0;
  ui.finals.textContent = "";
  showPartial("", "");
  ui.polishedBox.hidden = true;
}

// The language menu offers only what the installed models speak: English is always there
// (the bundled tiny.en); the rest comes from GET /api/models, named in the browser's language.
async function loadLanguages() {
  const token = new URLSearchParams(location.search).get("token");
  let listed;
  try {
    const response = await fetch("/api/models", {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    if (!response.ok) return;
    listed = await response.json();
  } catch {
    return; // the menu keeps "detect" and English
  }
  let names = null;
  try {
    names = new Intl.DisplayNames([navigator.language, "en"], { type: "language" });
  } catch {
    // an old browser: codes, not names
  }
  const nameOf = (code) => {
    try {
      return (names && names.of(code)) || code;
    } catch {
      return code;
    }
  };
  const others = listed.languages
    .filter((code) => code !== "en")
    .map((code) => [nameOf(code), code])
    .sort(([a], [b]) => a.localeCompare(b));
  for (const [name, code] of others) ui.language.add(new Option(name, code));
}

loadLanguages();
ui.start.addEventListener("click", start);
ui.stop.addEventListener("click", stop);
ui.copy.addEventListener("click", copy);
ui.download.addEventListener("click", download);
ui.clear.addEventListener("click", clear);
