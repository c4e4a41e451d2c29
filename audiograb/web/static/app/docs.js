// `/docs`: Swagger UI (from this server's files) over the OpenAPI document, fetched with the
// tab's key; "Try it out" requests carry the key in a header too.
import { currentKey, getJSON, setUpKeyButton } from "./api.js";
import { showError } from "./ui.js";

async function start() {
  setUpKeyButton();
  try {
    const spec = await getJSON("/api/schema/openapi.json");
    window.SwaggerUIBundle({
      spec,
      domNode: document.getElementById("docs-ui"),
      deepLinking: false,
      requestInterceptor: (request) => {
        const key = currentKey();
        if (key) request.headers["X-API-Key"] = key;
        return request;
      },
    });
    document.body.dataset.docs = "ready";
  } catch (error) {
    showError(document.getElementById("docs-error"), error);
  }
}

if (window.SwaggerUIBundle) start();
else addEventListener("load", start);
