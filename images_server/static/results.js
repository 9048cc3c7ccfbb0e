/* The results of a pack: a card per file (preview, size, saving against the source), the
   snippets with copy buttons, and the ZIP. With an API key, previews and the ZIP are fetched
   with it and shown or saved from blobs, as an <img> or a link cannot send it. */

import { $, apiKey, bytes, fact, request, show, showError, swatch } from "./common.js";

var current = { packId: null, zipName: "pack.zip", objectUrls: [] };

/* Lets go of the previews fetched for the last pack. */
export function forgetResults() {
  current.objectUrls.forEach(function (url) { URL.revokeObjectURL(url); });
  current.objectUrls = [];
  current.packId = null;
}

function packUrl(path) {
  return "packs/" + current.packId + path;
}

export function showResults(packId, pack) {
  forgetResults();
  current.packId = packId;
  current.zipName = pack.manifest.name + "-pack.zip";
  var manifest = pack.manifest;
  var source = manifest.source;
  var total = manifest.files.reduce(function (sum, entry) { return sum + entry.bytes; }, 0);
  var list = $("results-summary");
  list.textContent = "";
  fact(list, "Source", source.file + ": " + source.width + " × " + source.height + " px, " + bytes(source.bytes));
  var count = manifest.files.length;
  fact(list, "Files", count + (count === 1 ? " image, " : " images, ") + bytes(total) + " in all");
  fact(list, "Placeholder", manifest.placeholder.blurhash).className = "code";
  fact(list, "Dominant colour", swatch(manifest.placeholder.dominant_color));
  var placeholder = $("placeholder");
  placeholder.src = manifest.placeholder.data_url;
  placeholder.alt = "The blurred placeholder";
  placeholder.hidden = false;
  $("download").href = packUrl("/download");
  $("files").textContent = "";
  manifest.files.forEach(function (entry) { $("files").appendChild(fileCard(entry, source.bytes)); });
  show(["progress-section", "results"]);
  return request(packUrl("/snippets"))
    .then(function (response) { return response.json(); })
    .then(showSnippets)
    .catch(function (error) { showError("The snippets could not be loaded: " + error.message); });
}

function savings(size, sourceSize) {
  var change = Math.round((1 - size / sourceSize) * 100);
  return change >= 0 ? change + " % smaller than the source" : -change + " % larger than the source";
}

function fileCard(entry, sourceSize) {
  var item = document.createElement("li");
  item.className = "card";
  var image = document.createElement("img");
  image.alt = "Preview of " + entry.file;
  image.width = entry.width;
  image.height = entry.height;
  image.loading = "lazy";
  setPreview(image, packUrl("/files/" + encodeURIComponent(entry.file)));
  var name = document.createElement("p");
  name.className = "file-name";
  name.textContent = entry.file;
  var facts = document.createElement("dl");
  facts.className = "facts";
  fact(facts, "Size", entry.width + " × " + entry.height + " px");
  fact(facts, "Weight", bytes(entry.bytes));
  fact(facts, "Saving", savings(entry.bytes, sourceSize)).className = entry.bytes <= sourceSize ? "saving" : "loss";
  item.appendChild(image);
  item.appendChild(name);
  item.appendChild(facts);
  return item;
}

/* An <img> cannot send the API key, so with a key the preview is fetched and shown as a blob. */
function setPreview(image, url) {
  if (!apiKey()) { image.src = url; return; }
  request(url)
    .then(function (response) { return response.blob(); })
    .then(function (blob) {
      var objectUrl = URL.createObjectURL(blob);
      current.objectUrls.push(objectUrl);
      image.src = objectUrl;
    })
    .catch(function () { image.alt = "No preview of this file"; });
}

function showSnippets(texts) {
  var box = $("snippets");
  box.textContent = "";
  Object.keys(texts).forEach(function (name, index) {
    var block = document.createElement("div");
    block.className = "snippet";
    var head = document.createElement("div");
    head.className = "snippet-head";
    var title = document.createElement("h4");
    title.id = "snippet-" + index;
    title.textContent = name;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button copy";
    button.textContent = "Copy";
    button.setAttribute("aria-describedby", title.id);
    var status = document.createElement("span");
    status.className = "status";
    status.setAttribute("aria-live", "polite");
    var pre = document.createElement("pre");
    pre.tabIndex = 0;
    pre.setAttribute("aria-labelledby", title.id);
    var code = document.createElement("code");
    code.textContent = texts[name];
    pre.appendChild(code);
    button.addEventListener("click", function () { copy(texts[name], code, status); });
    head.appendChild(title);
    head.appendChild(button);
    head.appendChild(status);
    block.appendChild(head);
    block.appendChild(pre);
    box.appendChild(block);
  });
}

function copy(text, code, status) {
  var done = function () { status.textContent = "Copied."; };
  var fallback = function () {
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    status.textContent = document.execCommand && document.execCommand("copy")
      ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
}

/* With an API key, the ZIP link cannot carry it either: fetch it, then save the blob. */
export function download(event) {
  if (!apiKey()) { return; }
  event.preventDefault();
  request(packUrl("/download"))
    .then(function (response) { return response.blob(); })
    .then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = current.zipName;
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    })
    .catch(function (error) { showError("The ZIP could not be downloaded: " + error.message); });
}
