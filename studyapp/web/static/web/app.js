// studyapp web UI: the few things HTMX does not do by itself.
// - the upload drop zone (drag and drop onto the file input, which stays a normal, keyboard-usable input);
// - the concept graph: Enter or Space on a focused concept activates it like a click, and the
//   selected concept and its relations are highlighted.
(function () {
  "use strict";

  function initDropzones(root) {
    var zones = root.querySelectorAll ? root.querySelectorAll("[data-dropzone]") : [];
    Array.prototype.forEach.call(zones, function (zone) {
      if (zone.getAttribute("data-ready") === "1") { return; }
      zone.setAttribute("data-ready", "1");
      var input = zone.querySelector('input[type="file"]');
      var out = zone.querySelector("[data-dropzone-file]");
      function show() {
        var file = input.files && input.files[0];
        out.textContent = file ? "Selected: " + file.name : "";
        zone.classList.toggle("has-file", Boolean(file));
      }
      input.addEventListener("change", show);
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dragging");
        });
      });
      ["dragleave", "dragend", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        var files = event.dataTransfer && event.dataTransfer.files;
        if (files && files.length) {
          var one = new DataTransfer();  // the input takes one file
          one.items.add(files[0]);
          input.files = one.files;
          show();
        }
      });
    });
  }

  function selectConcept(id) {
    var graph = document.querySelector("[data-graph]");
    if (!graph) { return; }
    graph.classList.add("has-selection");
    Array.prototype.forEach.call(graph.querySelectorAll(".node"), function (node) {
      var selected = node.getAttribute("data-concept") === id;
      node.classList.toggle("selected", selected);
      node.setAttribute("aria-pressed", selected ? "true" : "false");
    });
    var neighbours = {};
    Array.prototype.forEach.call(graph.querySelectorAll(".edge"), function (edge) {
      var source = edge.getAttribute("data-source"), target = edge.getAttribute("data-target");
      var touches = source === id || target === id;
      edge.classList.toggle("active", touches);
      if (touches) { neighbours[source] = true; neighbours[target] = true; }
    });
    Array.prototype.forEach.call(graph.querySelectorAll(".node"), function (node) {
      var concept = node.getAttribute("data-concept");
      node.classList.toggle("neighbour", concept !== id && Boolean(neighbours[concept]));
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) { return; }
    var node = target.closest(".node");
    if (node) { selectConcept(node.getAttribute("data-concept")); return; }
    var link = target.closest("[data-concept-link]");
    if (link) { selectConcept(link.getAttribute("data-concept-link")); }
  });

  document.addEventListener("keydown", function (event) {
    var node = event.target.closest ? event.target.closest(".node") : null;
    if (node && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();  // Space would scroll the page
      node.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
    }
  });

  // On a narrow screen the graph scrolls sideways: start with its middle in view, not its empty edge.
  function centreGraphs(root) {
    var boxes = root.querySelectorAll ? root.querySelectorAll(".graph-scroll") : [];
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth > box.clientWidth) { box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2; }
    });
  }

  // A concept's panel or an explanation that arrives out of sight is scrolled into view, as little
  // as needed (a click low in a tall graph should not leave its answer above the fold).
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "concept-panel" || target.id === "explanation")) {
      var box = target.getBoundingClientRect();
      if (box.top < 0 || box.top > window.innerHeight - 80) {
        target.scrollIntoView({block: "nearest", behavior: "auto"});
      }
    }
  });

  // A page opened with ?concept=ID shows that concept's panel: highlight it in the graph too.
  function selectFromPage() {
    var graph = document.querySelector("[data-graph][data-selected]");
    if (graph) { selectConcept(graph.getAttribute("data-selected")); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initDropzones(document);
    centreGraphs(document);
    selectFromPage();
  });
  document.addEventListener("htmx:load", function (event) { initDropzones(event.detail.elt); centreGraphs(event.detail.elt); });
})();
