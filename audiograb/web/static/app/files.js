// Links to the API's files. Without a key the browser uses the URL itself (Range requests,
// streaming); with a key (which an <a> or <audio> cannot send in a header) the file is fetched
// with it and handed over as an object URL.
import { blobFile, needsKey } from "./api.js";
import { el } from "./ui.js";

export function linkTo(href, text) {
  return el("a", { href, className: "button", text });
}

/** A download link for an API file that works with or without a key. */
export function fileLink(path, text, attributes = {}) {
  const link = el("a", { ...attributes, href: path, className: "button", download: "", text });
  link.addEventListener("click", async (event) => {
    if (!needsKey() || link.dataset.ready) return;
    event.preventDefault();
    const file = await blobFile(path);
    link.href = file.url;
    link.download = file.name;
    link.dataset.ready = "true";
    link.click();
  });
  return link;
}

/** The `src` for a media element playing an API file. */
export async function mediaSource(path) {
  return needsKey() ? (await blobFile(path)).url : path;
}
