// `/schedules`: planned downloads: list, create (once or by cron), cancel.
import { getJSON, request, sendJSON, setUpKeyButton } from "./api.js";
import { el, showError, when } from "./ui.js";

const $ = (id) => document.getElementById(id);

async function load() {
  try {
    const page = await getJSON("/api/schedules");
    const schedules = page.schedules || page;
    $("schedules").replaceChildren(...schedules.map((schedule) => {
      const cancel = schedule.state === "active" || schedule.state === "pending"
        ? el("button", { type: "button", className: "danger", text: "Cancel", onclick: () => cancelSchedule(schedule.id) })
        : null;
      return el("tr", { "data-schedule-id": schedule.id },
        el("td", { text: schedule.cron ? `${schedule.cron} (${schedule.timezone}); next ${when(schedule.run_at)}` : when(schedule.run_at) }),
        el("td", { text: schedule.request.url }),
        el("td", { text: schedule.state }),
        el("td", { text: String(schedule.runs) }),
        el("td", {}, cancel));
    }));
    showError($("schedules-error"), null);
  } catch (error) {
    showError($("schedules-error"), error);
  }
}

async function cancelSchedule(id) {
  try {
    await request("DELETE", `/api/schedules/${id}`);
  } catch (error) {
    showError($("schedules-error"), error);
  }
  await load();
}

async function create(event) {
  event.preventDefault();
  const url = $("s-url").value.trim();
  showError($("s-url-error"), null);
  showError($("schedule-error"), null);
  if (!url) {
    $("s-url").setAttribute("aria-invalid", "true");
    $("s-url-error").textContent = "Give the link to download.";
    $("s-url").focus();
    return;
  }
  $("s-url").setAttribute("aria-invalid", "false");
  const body = { url, format: $("s-format").value, timezone: $("s-tz").value.trim() || "UTC" };
  const at = $("s-at").value;
  const cron = $("s-cron").value.trim();
  if (at) body.at = new Date(at).toISOString();
  if (cron) body.cron = cron;
  if (!at && !cron) {
    $("schedule-error").textContent = "Choose a time, a cron expression, or both.";
    return;
  }
  try {
    await sendJSON("POST", "/api/schedules", body);
    $("schedule-status").textContent = "Scheduled.";
    $("schedule-form").reset();
    $("s-tz").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    await load();
  } catch (error) {
    const target = error.code && error.code.includes("url") ? $("s-url-error") : $("schedule-error");
    showError(target, error);
  }
}

setUpKeyButton();
$("s-tz").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
$("schedule-form").addEventListener("submit", create);
load();
