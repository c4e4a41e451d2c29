// Talking to the API: the key (kept in sessionStorage, sent as X-API-Key, never in a URL),
// JSON requests with errors in words, and server-sent events read from a fetch stream so the
// key can go in a header, resuming with Last-Event-ID after a dropped connection.

const KEY = "audiograb.key";

/** An API error: the HTTP status, the stable code and the message in words. */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function currentKey() {
  return sessionStorage.getItem(KEY);
}

function authHeaders(extra = {}) {
  const headers = new Headers(extra);
  const key = currentKey();
  if (key) headers.set("X-API-Key", key);
  return headers;
}

let asking = null;

/** Show the key dialog once for every request that needs it; resolves when a key is given. */
function askForKey(refused) {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const error = document.getElementById("key-error");
  error.textContent = refused ? "The server refused that key. Check it and try again." : "";
  input.setAttribute("aria-invalid", refused ? "true" : "false");
  input.value = "";
  asking = new Promise((resolve) => {
    form.addEventListener("submit", () => {
      sessionStorage.setItem(KEY, input.value.trim());
      document.getElementById("key-button").hidden = false;
      asking = null;
      resolve();
    }, { once: true });
  });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

export function setUpKeyButton() {
  const button = document.getElementById("key-button");
  button.hidden = !currentKey();
  button.addEventListener("click", () => askForKey(false).then(() => location.reload()));
}

async function errorOf(response) {
  try {
    const body = await response.json();
    const error = body.error || {};
    return new ApiError(response.status, error.code || "http_" + response.status,
      error.message || response.statusText, error.details || []);
  } catch {
    return new ApiError(response.status, "http_" + response.status, response.statusText || "request failed");
  }
}

/** fetch() with the key; asks for a key on 401 and tries again; throws ApiError otherwise. */
export async function request(method, path, { json, body, headers = {}, signal } = {}) {
  for (;;) {
    const init = { method, headers: authHeaders(headers), signal };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers.set("Content-Type", "application/json");
    } else if (body !== undefined) {
      init.body = body;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      if (signal && signal.aborted) throw error;
      throw new ApiError(0, "network", "the server cannot be reached");
    }
    if (response.status === 401) {
      const refused = Boolean(currentKey());
      if (refused) sessionStorage.removeItem(KEY);
      await askForKey(refused);
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }
}

export async function getJSON(path, options) {
  return (await request("GET", path, options)).json();
}

export async function sendJSON(method, path, json) {
  const response = await request(method, path, { json });
  return response.status === 204 ? null : response.json();
}

/** A file from the API as an object URL (with the key, since <a>/<audio> cannot send it),
 * and the file name the server gives it. */
export async function blobFile(path) {
  const response = await request("GET", path);
  const disposition = response.headers.get("content-disposition") || "";
  const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : "";
  return { url: URL.createObjectURL(await response.blob()), name };
}

/** Whether media and downloads can use the API's URLs directly (no key needed). */
export function needsKey() {
  return Boolean(currentKey());
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
});

function parseFrame(frame) {
  const event = { data: undefined };
  const data = [];
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "id") event.id = value;
    else if (field === "event") event.type = value;
    else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
  }
  if (data.length) event.data = JSON.parse(data.join("\n"));
  return event;
}

/**
 * Follow an event stream: `onEvent(data, id)` for each event, reconnecting after a drop with
 * the last id seen as Last-Event-ID (no gap, no duplicate). Stops when `signal` aborts, when
 * the server answers 204 (nothing left) or, with `until(data)`, after the event it accepts.
 */
export async function followEvents(path, { onEvent, onState = () => {}, signal, lastId = null, until = null }) {
  let retry = 3000;
  while (!signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (lastId !== null) headers["Last-Event-ID"] = String(lastId);
      const response = await request("GET", path, { headers, signal });
      if (response.status === 204) return;
      onState("open");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.retry) retry = event.retry;
          if (event.data === undefined) continue;
          if (event.id !== undefined) lastId = event.id;
          onEvent(event.data, event.id);
          if (until && until(event.data)) return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
        onState("failed", error);
        return;
      }
    }
    if (signal.aborted) return;
    onState("reconnecting");
    await sleep(retry, signal);
  }
}
