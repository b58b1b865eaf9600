/* Small progressive enhancements; every page works without this script. Served from the site
   (never inline), so a Content-Security-Policy without 'unsafe-inline' allows it. */
(function () {
  "use strict";

  // After a failed submit, take keyboard and screen-reader users straight to what went wrong.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary[data-autofocus]");
    if (summary) {
      summary.focus();
    }
  }

  // "Copy link" buttons are hidden until this script can make them work.
  function enableCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!source) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = source.value || source.textContent;
        var done = function () {
          if (status) {
            status.textContent = button.getAttribute("data-copied-text") || "Copied";
          }
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {
            selectAndCopy(source);
            done();
          });
        } else {
          selectAndCopy(source);
          done();
        }
      });
    });
  }

  function selectAndCopy(source) {
    if (source.select) {
      source.select();
    }
    try {
      document.execCommand("copy");
    } catch (ignored) {
      // Selected: the supporter can copy it themselves.
    }
  }

  function start() {
    focusErrorSummary();
    enableCopyButtons();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
