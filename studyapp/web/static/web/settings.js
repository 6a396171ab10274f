// The settings area: the copy button next to a secret shown once. Without a clipboard (or without
// JavaScript) the button stays hidden and the hint says to select the text and copy it.
(function () {
  "use strict";

  function initCopy(root) {
    if (!navigator.clipboard || !window.isSecureContext) { return; }
    document.documentElement.classList.add("js-clipboard");
    var buttons = root.querySelectorAll ? root.querySelectorAll("[data-copy]") : [];
    Array.prototype.forEach.call(buttons, function (button) { button.hidden = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentNode.querySelector("[data-copy-status]");
    navigator.clipboard.writeText(input.value).then(function () {
      if (status) { status.textContent = "Copied."; }
    }, function () {
      input.select();
      if (status) { status.textContent = "Press Ctrl+C (⌘C) to copy."; }
    });
  });

  // Clicking into the secret selects all of it, ready to copy by hand.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-secret]")) { event.target.select(); }
  });

  document.addEventListener("DOMContentLoaded", function () { initCopy(document); });
  document.addEventListener("htmx:load", function (event) { initCopy(event.detail.elt); });
})();
