// `/webhooks`: endpoints (with their signing secrets), registering one, a test message, and
// the delivery log.
import { getJSON, sendJSON, setUpKeyButton } from "./api.js";
import { el, showError, when } from "./ui.js";

const $ = (id) => document.getElementById(id);

async function load() {
  try {
    const endpoints = await getJSON("/api/webhooks/endpoints");
    $("endpoints").replaceChildren(...endpoints.map((endpoint) => el("tr", {},
      el("td", { text: endpoint.url }),
      el("td", {}, el("code", { text: endpoint.secret })),
      el("td", { text: when(endpoint.created_at) }))));
    const page = await getJSON("/api/webhooks/deliveries?limit=50");
    const deliveries = page.deliveries || page;
    $("deliveries").replaceChildren(...deliveries.map((delivery) => el("tr", {},
      el("td", { text: delivery.type }),
      el("td", { text: delivery.url }),
      el("td", { text: delivery.status }),
      el("td", { text: String(delivery.attempts) }),
      el("td", { text: when(delivery.delivered_at || delivery.created_at) }))));
    showError($("endpoints-error"), null);
  } catch (error) {
    showError($("endpoints-error"), error);
  }
}

function urlOrComplain() {
  const url = $("w-url").value.trim();
  showError($("w-error"), null);
  if (!url) {
    $("w-url").setAttribute("aria-invalid", "true");
    $("w-error").textContent = "Give the endpoint's URL.";
    $("w-url").focus();
  } else {
    $("w-url").setAttribute("aria-invalid", "false");
  }
  return url;
}

$("endpoint-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const url = urlOrComplain();
  if (!url) return;
  try {
    await sendJSON("POST", "/api/webhooks/endpoints", { url });
    $("w-status").textContent = "Registered.";
    await load();
  } catch (error) {
    showError($("w-error"), error);
  }
});

$("w-test").addEventListener("click", async () => {
  const url = $("w-url").value.trim();
  showError($("w-error"), null);
  try {
    await sendJSON("POST", "/api/webhooks/test", url ? { url } : {});
    $("w-status").textContent = "Test message queued.";
    await load();
  } catch (error) {
    showError($("w-error"), error);
  }
});

setUpKeyButton();
load();
