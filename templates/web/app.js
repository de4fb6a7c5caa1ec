// executor's web UI: a little plain JavaScript over the same /api routes
// the CLI uses. The session cookie rides along; the CSRF token from the
// page goes in `x-csrf-token`, which /api requires with a cookie.
"use strict";

const csrf = document.querySelector('meta[name="csrf"]').content;

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  try {
    return await response.json();
  } catch {
    return { ok: false, error: { code: "internal_error", message: `the service answered ${response.status}` } };
  }
}

function show(element, envelope) {
  element.textContent = JSON.stringify(envelope, null, 2);
  element.classList.toggle("failed", envelope.ok === false);
  element.classList.toggle("succeeded", envelope.ok === true);
}

// ok: true or false for an outcome, null while waiting for one.
function message(element, text, ok) {
  element.textContent = text;
  element.classList.toggle("failed", ok === false);
  element.classList.toggle("succeeded", ok === true);
}

function fields(form) {
  const out = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

const actions = {
  async "add-source"(form) {
    const f = fields(form);
    const body = { source: f.source ?? "", namespace: f.namespace ?? "" };
    if (f.baseUrl) body.baseUrl = f.baseUrl;
    if (f.kind) body.kind = f.kind;
    if (f.headerName && f.headerValue) body.headers = { [f.headerName]: f.headerValue };
    const out = document.getElementById("add-result");
    message(out, "Adding…", null);
    const envelope = await api("POST", "/api/tools/invoke/executor.sources.add", body);
    if (!envelope.ok) return message(out, envelope.error.message, false);
    const d = envelope.data;
    out.replaceChildren();
    const p = document.createElement("p");
    p.textContent = `Added the ${d.kind} source ${d.namespace} with ${d.tools} tools. `;
    if (d.authorizationUrl && /^https?:\/\//.test(d.authorizationUrl)) {
      const a = document.createElement("a");
      a.href = d.authorizationUrl;
      a.textContent = "Sign in to the server";
      p.append(a);
    } else {
      const a = document.createElement("a");
      a.href = `/integrations/${encodeURIComponent(d.namespace)}`;
      a.id = "open-integration";
      a.textContent = "See its tools";
      p.append(a);
    }
    out.append(p);
    if (d.diagnostics.length) {
      const ul = document.createElement("ul");
      ul.className = "diagnostics";
      for (const text of d.diagnostics) {
        const li = document.createElement("li");
        li.textContent = text;
        ul.append(li);
      }
      out.append(ul);
    }
    out.classList.add("succeeded");
    out.classList.remove("failed");
  },

  async run(form) {
    const details = form.closest("details.tool");
    const out = details.querySelector(".envelope");
    let input;
    try {
      input = JSON.parse(form.elements.input.value || "{}");
    } catch (e) {
      return message(out, `The input is not JSON: ${e.message}`, false);
    }
    message(out, "Running…", null);
    show(out, await api("POST", `/api/tools/invoke/${details.dataset.path}`, input));
  },

  async "run-script"(form) {
    const out = document.getElementById("script-result");
    message(out, "Running…", null);
    show(out, await api("POST", "/api/execute", { code: form.elements.code.value }));
  },

  async "add-connection"(form) {
    const f = fields(form);
    const body = { integration: f.integration, secret: form.elements.secret.value };
    if (f.name) body.name = f.name;
    if (f.method === "bearer") body.auth = { type: "bearer" };
    if (f.method === "basic") body.auth = { type: "basic", username: f.detail ?? "" };
    if (f.method === "api_key") body.auth = { type: "api_key", in: "header", name: f.detail ?? "" };
    const out = document.getElementById("connection-result");
    const envelope = await api("POST", "/api/connections", body);
    if (!envelope.ok) return message(out, envelope.error.message, false);
    location.reload();
  },

  async "add-policy"(form) {
    const out = document.getElementById("policy-result");
    const envelope = await api("POST", "/api/policies", fields(form));
    if (!envelope.ok) return message(out, envelope.error.message, false);
    location.reload();
  },
};

document.addEventListener("submit", (event) => {
  const form = event.target;
  const action = actions[form.dataset.action];
  if (!action) return;
  event.preventDefault();
  action(form).catch((e) => alert(e.message));
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.copy !== undefined) {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  } else if (button.dataset.delete) {
    if (!confirm("Remove it?")) return;
    const envelope = await api("DELETE", button.dataset.delete);
    if (envelope.ok) location.reload();
    else alert(envelope.error.message);
  } else if (button.dataset.sourceAction) {
    // Refresh fetches the source again; remove takes its tools away.
    const action = button.dataset.sourceAction;
    const namespace = button.dataset.namespace;
    if (action === "remove" && !confirm(`Remove ${namespace} and its tools?`)) return;
    const out = document.getElementById("source-result");
    message(out, action === "refresh" ? "Refreshing…" : "Removing…", null);
    const envelope = await api("POST", `/api/tools/invoke/executor.sources.${action}`, { namespace });
    if (!envelope.ok) return message(out, envelope.error.message, false);
    if (action === "remove") location.href = "/";
    else location.reload();
  } else if (button.dataset.move) {
    const envelope = await api("POST", `/api/policies/${button.dataset.move}/move`, {
      position: Number(button.dataset.position),
    });
    if (envelope.ok) location.reload();
    else alert(envelope.error.message);
  } else if (button.dataset.resume) {
    const article = button.closest(".execution");
    const out = article.querySelector(".envelope");
    for (const b of article.querySelectorAll("button[data-resume]")) b.disabled = true;
    const envelope = await api("POST", `/api/executions/${button.dataset.resume}/resume`, {
      action: button.dataset.answer,
    });
    show(out, envelope);
    const now = await api("GET", `/api/executions/${button.dataset.resume}`);
    if (now.ok && now.data.state !== "paused") {
      // Answered (here or elsewhere): no more buttons, one less waiting.
      article.querySelector(".answer")?.remove();
      const badge = document.getElementById("pending");
      if (badge) {
        const left = Number(badge.textContent) - 1;
        if (left > 0) badge.textContent = String(left);
        else badge.remove();
      }
    } else {
      for (const b of article.querySelectorAll("button[data-resume]")) b.disabled = false;
    }
    const state = document.getElementById("state");
    if (state && now.ok) state.textContent = now.data.state;
  }
});

// A file chosen on Add Source fills the text box.
document.addEventListener("change", async (event) => {
  const input = event.target;
  if (input.type !== "file" || !input.files.length) return;
  input.form.elements.source.value = await input.files[0].text();
});

// A tool's schemas are fetched when it is opened (big integrations would
// otherwise make big pages).
document.addEventListener(
  "toggle",
  async (event) => {
    const details = event.target;
    if (!details.matches?.("details.tool") || !details.open || details.dataset.loaded) return;
    details.dataset.loaded = "yes";
    const envelope = await api("GET", `/api/tools/${details.dataset.path}`);
    const tool = envelope.ok ? envelope.data : null;
    details.querySelector(".input-schema").textContent = tool
      ? JSON.stringify(tool.input, null, 2)
      : envelope.error.message;
    details.querySelector(".output-schema").textContent = tool ? JSON.stringify(tool.output, null, 2) : "";
  },
  true,
);
