// Keeps every progress bar of unfinished runs on an admin page current, without a reload.
// Each bar is <div class="jobrun-live" data-run="ID" data-finished="0|1">; the endpoint returns
// the live state of the runs asked for (the row plus job.meta).
(function () {
  "use strict";
  var ENDPOINT = "/admin/jobs/jobrun/live/";
  // A page (or a test) may poll faster by setting window.STUDYAPP_POLL_MS before this script runs.
  var PERIOD_MS = window.STUDYAPP_POLL_MS || 1000;

  function unfinishedBars() {
    return Array.prototype.filter.call(document.querySelectorAll(".jobrun-live"), function (el) {
      return el.getAttribute("data-finished") !== "1";
    });
  }

  function render(el, state) {
    el.querySelector("progress").value = state.percent;
    var status = el.querySelector(".jobrun-status");
    status.textContent = state.status;
    status.className = "jobrun-status jobrun-" + state.status;
    el.querySelector(".jobrun-stage").textContent = state.text;
    el.setAttribute("data-finished", state.finished ? "1" : "0");
    // In the run list the attempts column sits in the same row: a run that started has spent one.
    var row = el.closest("tr");
    var attempts = row && row.querySelector("td.field-attempts_column");
    if (attempts) { attempts.textContent = state.attempts + "/" + state.max_attempts; }
  }

  function poll() {
    var bars = unfinishedBars();
    if (!bars.length) { return; }
    var ids = bars.map(function (el) { return el.getAttribute("data-run"); });
    var allowed = true;
    fetch(ENDPOINT + "?ids=" + encodeURIComponent(ids.join(",")), {credentials: "same-origin"})
      .then(function (response) {
        // Not allowed to see runs (or logged out): asking again every second will not change that.
        if (response.status === 401 || response.status === 403) { allowed = false; }
        return response.ok ? response.json() : {runs: {}};
      })
      .then(function (data) {
        bars.forEach(function (el) {
          var state = data.runs[el.getAttribute("data-run")];
          if (state) { render(el, state); }
        });
      })
      .catch(function () { /* the next tick tries again */ })
      .finally(function () { if (allowed) { window.setTimeout(poll, PERIOD_MS); } });
  }

  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, PERIOD_MS); });
})();
