/* The packs page: choose or drop an image, see its analysis and the recommended settings,
   build the pack (a job on the server, polled for progress), then show every file, the
   snippets with copy buttons and the ZIP. Plain JavaScript; every request goes to this
   server's packs API with URLs relative to the page, so the app may live under a prefix. */

import {
  $, KEY_STORAGE, bytes, clearError, clearFieldErrors, fact, forgetUploadToken, hasUploadToken,
  request, show, showError, showFieldError, swatch
} from "./common.js";
import { download, forgetResults, showResults } from "./results.js";

var POLL_MS = 400;
var POLL_RETRIES = 5;
var main = $("main");
var maxUpload = Number(main.dataset.maxUpload);
var form = $("settings");
var state = { file: null, sourceUrl: null, packId: null };

/* 1. Choose */

function choose(file) {
  clearError();
  if (!file) { return; }
  if (file.type && file.type.indexOf("image/") !== 0) {
    showError("“" + file.name + "” is not an image (" + file.type + "). Choose " + main.dataset.formats + ".");
    return;
  }
  if (file.size > maxUpload) {
    showError("“" + file.name + "” is " + bytes(file.size) + "; this server takes images up to " + bytes(maxUpload) + ".");
    return;
  }
  state.file = file;
  state.packId = null;
  $("file-status").textContent = "Analysing “" + file.name + "”…";
  $("upload").setAttribute("aria-busy", "true");
  var body = new FormData();
  body.append("file", file);
  request("packs/analyze", { method: "POST", body: body, upload: true })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      $("file-status").textContent = "Chosen: “" + file.name + "” (" + bytes(file.size) + ").";
      enableForm();
      showAnalysis(file, data.analysis, data.preview);
      fillForm(data.recommended, data.analysis);
      show(["configure"]);
    })
    .catch(function (error) {
      $("file-status").textContent = "";
      showError(error.message);
    })
    .then(function () { $("upload").removeAttribute("aria-busy"); });
}

function showAnalysis(file, analysis, serverPreview) {
  if (state.sourceUrl) { URL.revokeObjectURL(state.sourceUrl); }
  state.sourceUrl = URL.createObjectURL(file);
  var preview = $("source-preview");
  // HEIC, TIFF, JPEG XL, SVG: the server drew a preview browsers can show
  preview.src = serverPreview || state.sourceUrl;
  preview.alt = "The chosen image, " + file.name;
  preview.hidden = false;
  var list = $("analysis");
  list.textContent = "";
  fact(list, "Size", analysis.width + " × " + analysis.height + " px, " + bytes(analysis.bytes));
  fact(list, "Format", analysis.format.toUpperCase() + (analysis.has_alpha ? ", with transparency" : ", opaque"));
  fact(list, "Aspect ratio", analysis.aspect_label);
  fact(list, "Looks like", analysis.kind === "photo" ? "a photo" : "a graphic (flat colours, sharp edges)");
  fact(list, "Colours (sampled)", String(analysis.colours));
  fact(list, "Dominant colour", swatch(analysis.dominant_color));
  fact(list, "BlurHash placeholder", analysis.placeholder).className = "code";
}

function fillForm(settings, analysis) {
  form.elements.name.value = settings.name;
  form.querySelectorAll("input[name=formats]").forEach(function (box) {
    box.checked = settings.formats.indexOf(box.value) !== -1;
    var quality = $("quality-" + box.value);
    quality.value = settings.quality[box.value] || (box.value === "png" ? 100 : 80);
  });
  syncQuality();
  form.elements.widths.value = settings.widths.join(", ");
  $("widths-help").textContent = "Recommended for a " + analysis.width +
    " px source. Never wider than the source: a larger width is clamped to it.";
  form.elements.role.value = settings.role;
  form.elements.loading.value = settings.loading;
  form.elements.fetchpriority.value = settings.fetchpriority;
  form.elements.sizes.value = settings.sizes;
  form.elements.alt.value = settings.alt;
  form.elements.decorative.checked = Boolean(settings.decorative);
  syncAlt();
}

function syncQuality() {
  form.querySelectorAll("input[name=formats]").forEach(function (box) {
    $("quality-" + box.value).disabled = !box.checked;
  });
}

/* A decorative image has no alt text: its field is set aside while the box is ticked. */
function syncAlt() {
  form.elements.alt.disabled = form.elements.decorative.checked;
}

/* 2. Configure and build */

function collect() {
  var formats = [];
  var quality = {};
  form.querySelectorAll("input[name=formats]:checked").forEach(function (box) {
    formats.push(box.value);
    var field = $("quality-" + box.value);
    var value = Number(field.value);
    if (!Number.isInteger(value) || value < 1 || value > 100) {
      throw fieldError(field, box.value.toUpperCase() + " quality must be a whole number from 1 to 100.");
    }
    quality[box.value] = value;
  });
  if (!formats.length) {
    throw fieldError($("format-" + form.querySelector("input[name=formats]").value), "Choose at least one format.");
  }
  var widths = form.elements.widths.value.split(/[\s,]+/).filter(Boolean);
  if (!widths.length) { throw fieldError(form.elements.widths, "Give at least one width in pixels."); }
  var body = new FormData();
  body.append("file", state.file);
  body.append("formats", formats.join(","));
  body.append("widths", widths.join(","));
  body.append("quality", JSON.stringify(quality));
  ["name", "role", "loading", "fetchpriority", "sizes"].forEach(function (name) {
    body.append(name, form.elements[name].value);
  });
  if (form.elements.decorative.checked) {
    body.append("decorative", "true"); // the snippets get alt=""
  } else {
    body.append("alt", form.elements.alt.value); // empty: the snippets ask for a description
  }
  return body;
}

/* An error about one field: shown beside it when it has a place for one, else (returned)
   beside the Build button; the field is marked and focused either way. */
function fieldError(field, message) {
  var beside = showFieldError(field, message);
  var error = new Error(message);
  error.shown = beside;
  return error;
}

/* A 400 names its field first (`'widths': ...`): the rest of the message goes beside it. */
function markField(message) {
  var match = /^'(\w+)':\s*(.*)$/.exec(message);
  if (!match) { return false; }
  var field = match[1] === "formats" || match[1] === "quality"
    ? form.querySelector("input[name=formats]:checked")
    : form.elements.namedItem(match[1]);
  if (!field || !field.focus) { return false; }
  return showFieldError(field, $(field.id + "-error") ? match[2] : message);
}

function build(event) {
  event.preventDefault();
  clearError();
  clearFieldErrors(form);
  var body;
  try {
    body = collect();
  } catch (error) {
    if (!error.shown) { showError(error.message, "form-error"); }
    return;
  }
  $("build").disabled = true;
  setProgress(0, "Sending the image…");
  var withToken = hasUploadToken();
  request("packs", { method: "POST", body: body, upload: true })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      state.packId = data.id;
      if (withToken) { forgetUploadToken(); } // spent on this pack
      show(["configure", "progress-section"]);
      form.querySelectorAll("input, select, button").forEach(function (field) { field.disabled = true; });
      $("file").disabled = true; // one pack at a time: a new image waits until this one ends
      $("cancel").hidden = withToken; // cancelling is a write: it needs an API key
      $("cancel").disabled = false;
      poll(data.id, 0);
    })
    .catch(function (error) {
      $("build").disabled = false;
      if (!markField(error.message)) { showError(error.message, "form-error"); }
    });
}

/* 3. Progress */

var STATUS_TEXT = {
  queued: "Queued: waiting for a worker…",
  processing: "Rendering the images…",
  done: "Done.",
  failed: "Failed.",
  cancelled: "Cancelled."
};

/* The status in words, with "n of N files" once the server knows how many it renders. */
function statusText(pack) {
  var text = STATUS_TEXT[pack.status] || pack.status;
  if (pack.files_total === null || pack.files_total === undefined) { return text; }
  var count = pack.files_done + " of " + pack.files_total + " files";
  if (pack.status === "processing") { return "Rendering the images: " + count + "…"; }
  if (pack.status === "done") { return "Done: " + count + "."; }
  if (pack.status === "cancelled") { return "Cancelled after " + count + "."; }
  return text;
}

function setProgress(percent, status) {
  $("progress").value = percent;
  $("progress").textContent = percent + " %";
  $("progress-percent").textContent = percent + " %";
  if ($("progress-status").textContent !== status) { $("progress-status").textContent = status; }
}

/* Asks for the pack until it ends; stops once the page has moved on to another pack. */
function poll(packId, failures) {
  if (state.packId !== packId) { return; }
  request("packs/" + packId)
    .then(function (response) { return response.json(); })
    .then(function (pack) {
      if (state.packId !== packId) { return; }
      var percent = pack.status === "done" ? 100 : Math.floor(pack.progress * 100);
      setProgress(percent, statusText(pack));
      if (pack.status === "done") {
        $("cancel").hidden = true;
        $("file").disabled = false;
        return showResults(packId, pack);
      }
      if (pack.status === "failed") {
        showError("The pack could not be built: " + (pack.error || "unknown error") + ".");
        stopped();
        return;
      }
      if (pack.status === "cancelled") {
        stopped();
        return;
      }
      window.setTimeout(function () { poll(packId, 0); }, POLL_MS);
    })
    .catch(function (error) {
      if (state.packId !== packId) { return; }
      if (failures + 1 >= POLL_RETRIES) {
        showError(error.message + " (gave up asking for the pack's progress)");
        stopped();
        return;
      }
      window.setTimeout(function () { poll(packId, failures + 1); }, POLL_MS * 4);
    });
}

/* The pack ended without results: the settings may be changed and built again. */
function stopped() {
  var focus = document.activeElement;
  var lost = !focus || focus === document.body || focus === $("cancel");
  state.packId = null;
  $("cancel").hidden = true;
  enableForm();
  if (lost) { $("build").focus(); } // the Cancel button that had focus is gone
}

function cancel() {
  var packId = state.packId;
  if (!packId) { return; }
  $("cancel").disabled = true;
  request("packs/" + packId + "/cancel", { method: "POST" })
    .then(function (response) { return response.json(); })
    .then(function (pack) {
      if (state.packId !== packId) { return; }
      setProgress(Math.floor(pack.progress * 100), statusText(pack));
      stopped();
    })
    .catch(function (error) {
      // 409: it ended first; polling shows how. Anything else: say so, and allow a retry.
      if (!/ended|done|failed/.test(error.message)) { showError(error.message); }
      $("cancel").disabled = false;
    });
}

function enableForm() {
  form.querySelectorAll("input, select, button").forEach(function (field) { field.disabled = false; });
  $("file").disabled = false;
  syncQuality();
  syncAlt();
}

function restart() {
  clearError();
  forgetResults();
  state.packId = null;
  enableForm();
  $("build").disabled = false;
  $("file").value = "";
  $("file-status").textContent = "";
  ["configure", "progress-section", "results"].forEach(function (id) { $(id).hidden = true; });
  $("upload-title").setAttribute("tabindex", "-1");
  $("upload-title").focus();
}

/* Wiring */

$("file").addEventListener("change", function () {
  var file = this.files[0];
  this.value = ""; // so that choosing the same file again (say, after a 401) is a change too
  choose(file);
});
var zone = $("dropzone");
document.addEventListener("dragover", function (event) {
  event.preventDefault(); // anywhere on the page: a stray drop must not navigate away
  zone.classList.add("dragging");
});
document.addEventListener("dragleave", function (event) {
  if (!event.relatedTarget) { zone.classList.remove("dragging"); }
});
document.addEventListener("drop", function (event) {
  event.preventDefault();
  zone.classList.remove("dragging");
  if ($("file").disabled) { return; } // a pack is being built: one at a time
  var files = event.dataTransfer && event.dataTransfer.files;
  if (files && files.length) { choose(files[0]); }
});
form.addEventListener("submit", build);
form.elements.role.addEventListener("change", function () {
  var implied = form.elements.role.selectedOptions[0].dataset; // rendered by the server
  form.elements.loading.value = implied.loading;
  form.elements.fetchpriority.value = implied.fetchpriority;
  form.elements.sizes.value = implied.sizes;
});
form.querySelectorAll("input[name=formats]").forEach(function (box) {
  box.addEventListener("change", syncQuality);
});
form.elements.decorative.addEventListener("change", syncAlt);
$("cancel").addEventListener("click", cancel);
$("choose-again").addEventListener("click", restart);
$("restart").addEventListener("click", restart);
$("download").addEventListener("click", download);
var keyField = $("api-key");
keyField.value = sessionStorage.getItem(KEY_STORAGE) || "";
if (keyField.value) { $("auth").open = true; }
keyField.addEventListener("input", function () {
  if (keyField.value.trim()) {
    sessionStorage.setItem(KEY_STORAGE, keyField.value.trim());
  } else {
    sessionStorage.removeItem(KEY_STORAGE);
  }
});
