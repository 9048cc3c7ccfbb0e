/* What every part of the packs page uses: the API key, requests to the server with errors
   in words, and small DOM helpers. The key field also takes an upload token (`iut_...`, from
   `POST /upload-tokens`): it is sent only on the requests that upload (`upload: true`), is
   good for one pack, and the pack is then followed with the page's session cookie. */

export var KEY_STORAGE = "images-server-api-key";
var TOKEN_PREFIX = "iut_";

export var $ = function (id) { return document.getElementById(id); };

export function bytes(count) {
  var units = [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]];
  for (var i = 0; i < units.length; i++) {
    if (count >= units[i][1]) {
      return (count / units[i][1]).toPrecision(3).replace(/\.?0+$/, "") + " " + units[i][0];
    }
  }
  return count + " bytes";
}

/* The message in words, at the top of the page or (for the settings) beside the button. */
export function showError(message, boxId) {
  var box = $(boxId || "error");
  box.textContent = message;
  box.hidden = false;
}

export function clearError() {
  ["error", "form-error"].forEach(function (id) {
    $(id).hidden = true;
    $(id).textContent = "";
  });
}

/* A field's own error, shown right under it (`<id>-error`) and read with it when focused. */
export function showFieldError(field, message) {
  field.setAttribute("aria-invalid", "true");
  var box = $(field.id + "-error");
  if (box) {
    box.textContent = message;
    box.hidden = false;
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(box.id) === -1) {
      field.setAttribute("aria-describedby", [box.id].concat(described).join(" "));
    }
  }
  field.focus();
  return Boolean(box);
}

export function clearFieldErrors(form) {
  form.querySelectorAll("[aria-invalid]").forEach(function (field) {
    field.removeAttribute("aria-invalid");
    var box = $(field.id + "-error");
    if (!box) { return; }
    box.hidden = true;
    box.textContent = "";
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== box.id;
    });
    if (described.length) {
      field.setAttribute("aria-describedby", described.join(" "));
    } else {
      field.removeAttribute("aria-describedby");
    }
  });
}

/* Shows the sections of a step (the last one is the step's own), brings that one to the top
   of the screen (on a phone it would start below the fold) and moves focus to its heading. */
export function show(sectionIds) {
  ["configure", "progress-section", "results"].forEach(function (id) {
    $(id).hidden = sectionIds.indexOf(id) === -1;
  });
  var section = $(sectionIds[sectionIds.length - 1]);
  section.querySelector("h2").focus({ preventScroll: true });
  section.scrollIntoView({ block: "start" });
}

export function apiKey() {
  return (sessionStorage.getItem(KEY_STORAGE) || "").trim();
}

export function hasUploadToken() {
  return apiKey().indexOf(TOKEN_PREFIX) === 0;
}

/* A token is spent by the pack: it is forgotten, so the next pack asks for a new one. */
export function forgetUploadToken() {
  if (!hasUploadToken()) { return; }
  sessionStorage.removeItem(KEY_STORAGE);
  $("api-key").value = "";
}

function authHeaders(upload) {
  var key = apiKey();
  if (!key || (hasUploadToken() && !upload)) { return {}; }
  return { Authorization: "Bearer " + key };
}

/* fetch() with the API key, resolving to the response; rejects with an Error whose message
   is the server's own words (docs/api.md §2 error JSON) or says the server could not be reached. */
export function request(url, options) {
  options = options || {};
  options.headers = Object.assign({}, options.headers || {}, authHeaders(options.upload));
  delete options.upload;
  options.credentials = "same-origin";
  return fetch(url, options).then(function (response) {
    if (response.ok) { return response; }
    if (response.status === 401) { askForKey(); }
    return response.json().then(function (body) {
      var detail = body && body.message ? body.message : response.statusText;
      throw new Error(describe(response.status, detail));
    }, function () {
      throw new Error(describe(response.status, response.statusText));
    });
  }, function (error) {
    throw new Error("Could not reach the server (" + error.message + "). Check your connection and try again.");
  });
}

/* The key field sits under the file chooser, folded away: open it and put the cursor in it. */
function askForKey() {
  $("auth").open = true;
  $("api-key").focus();
}

function describe(status, detail) {
  if (status === 401 && hasUploadToken()) {
    return "This upload token cannot be used (" + detail + "): paste a new one, or an API key, " +
      "into the “API key” field below “Choose an image…” (the cursor is there now), then try again.";
  }
  if (status === 401) {
    var problem = apiKey() ? "This API key is not valid" : "This server needs an API key";
    return problem + ": type one into the “API key” field below “Choose an image…” " +
      "(the cursor is there now), then try again.";
  }
  if (status === 413) { return "Too large: " + detail; }
  if (status === 415) { return "Not a supported image: " + detail; }
  if (status === 422) { return "The image could not be read: " + detail; }
  if (status === 429) { return "Too many requests, wait a moment: " + detail; }
  return detail;
}

export function fact(list, term, value) {
  var dt = document.createElement("dt");
  var dd = document.createElement("dd");
  dt.textContent = term;
  if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = value; }
  list.appendChild(dt);
  list.appendChild(dd);
  return dd;
}

export function swatch(colour) {
  var span = document.createElement("span");
  var chip = document.createElement("span");
  chip.className = "swatch";
  chip.style.backgroundColor = colour; // CSSOM, allowed by the page's style-src 'self'
  span.appendChild(chip);
  span.appendChild(document.createTextNode(" " + colour));
  return span;
}
