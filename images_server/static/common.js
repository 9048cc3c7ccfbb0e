/* What every part of the packs page uses: the API key, requests to the server with errors
   in words, and small DOM helpers. */

export var KEY_STORAGE = "images-server-api-key";

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

/* Shows the sections of a step (the last one is the step's own) and moves focus to it. */
export function show(sectionIds) {
  ["configure", "progress-section", "results"].forEach(function (id) {
    $(id).hidden = sectionIds.indexOf(id) === -1;
  });
  $(sectionIds[sectionIds.length - 1]).querySelector("h2").focus();
}

export function apiKey() {
  return (sessionStorage.getItem(KEY_STORAGE) || "").trim();
}

function authHeaders() {
  var key = apiKey();
  return key ? { Authorization: "Bearer " + key } : {};
}

/* fetch() with the API key, resolving to the response; rejects with an Error whose message
   is the server's own words (SPEC §2 error JSON) or says the server could not be reached. */
export function request(url, options) {
  options = options || {};
  options.headers = Object.assign({}, options.headers || {}, authHeaders());
  options.credentials = "same-origin";
  return fetch(url, options).then(function (response) {
    if (response.ok) { return response; }
    if (response.status === 401) { $("auth").open = true; }
    return response.json().then(function (body) {
      var detail = body && body.message ? body.message : response.statusText;
      throw new Error(describeStatus(response.status) + detail);
    }, function () {
      throw new Error(describeStatus(response.status) + response.statusText);
    });
  }, function (error) {
    throw new Error("Could not reach the server (" + error.message + "). Check your connection and try again.");
  });
}

function describeStatus(status) {
  if (status === 401) { return "This server needs an API key (see “API key” above): "; }
  if (status === 413) { return "Too large: "; }
  if (status === 415) { return "Not a supported image: "; }
  if (status === 422) { return "The image could not be read: "; }
  if (status === 429) { return "Too many requests, wait a moment: "; }
  return "";
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
