// studyapp web UI: the few things HTMX does not do by itself.
// - the upload drop zone (drag and drop onto the file input, which stays a normal, keyboard-usable input);
// - the concept graph: Enter or Space on a focused concept activates it like a click, and the
//   selected concept and its relations are highlighted;
// - quizzes: focus follows a question that HTMX swapped in, a question's answer carries the time
//   the student took, and a newly asked-for quiz is scrolled into view.
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

  // Quizzes. A timed form remembers when it appeared; on submit its time_ms field gets the time taken.
  function stampTimedForms(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-timed]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      if (!form.getAttribute("data-shown-at")) { form.setAttribute("data-shown-at", String(Date.now())); }
    });
  }

  // Capturing, so the field is set before HTMX (listening on the form) reads the form's values.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-timed]")) { return; }
    var field = form.querySelector('input[name="time_ms"]');
    var shown = Number(form.getAttribute("data-shown-at"));
    if (field && shown) { field.value = String(Math.max(0, Date.now() - shown)); }
  }, true);

  // After HTMX redraws the question panel, keyboard and screen-reader users land on the new
  // question (or its feedback) instead of at the top of the page; the quiz section scrolls to the
  // quiz just asked for.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === "attempt-panel") {
      var panel = document.getElementById("attempt-panel");
      var heading = panel && panel.querySelector("[data-focus-after-swap]");
      if (heading) {
        heading.focus({preventScroll: true});
        if (heading.getBoundingClientRect().top < 0) { heading.scrollIntoView({block: "start"}); }
      }
    } else if (target.id === "quiz-section") {
      var card = document.querySelector("#quiz-section .quiz-card.is-highlighted");
      if (card) { card.scrollIntoView({block: "nearest"}); }
    }
  });

  // An all-at-once form sent back with errors: start at the summary that lists them.
  function focusErrorSummary() {
    var summary = document.getElementById("answer-errors");
    if (summary) { summary.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    initDropzones(document);
    centreGraphs(document);
    selectFromPage();
    stampTimedForms(document);
    focusErrorSummary();
  });
  document.addEventListener("htmx:load", function (event) {
    initDropzones(event.detail.elt);
    centreGraphs(event.detail.elt);
    stampTimedForms(event.detail.elt);
  });
})();
