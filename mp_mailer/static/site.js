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

  // The letter page's "own words" hint, updated after a pause in typing. The same measure as
  // mp_mailer/services/personal_touch.py (keep the two in step); the server's is the one kept.
  var WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu;
  var SENTENCE_END = /[.!?\u2026]\s+|\n+/;
  var MIN_SENTENCE_WORDS = 3;
  var NEAR_COPY = 0.5;
  var RUN = 3;

  function words(text) {
    return (text.toLowerCase().match(WORD) || []).map(function (word) {
      return word.replace(/\u2019/g, "'");
    });
  }

  function sentences(text) {
    return text.split(SENTENCE_END).map(words).filter(function (sentence) {
      return sentence.length > 0;
    });
  }

  function wordSet(sentence) {
    var set = {};
    sentence.forEach(function (word) {
      set[word] = true;
    });
    return Object.keys(set);
  }

  function jaccard(ours, theirs) {
    var lookup = {};
    theirs.forEach(function (word) {
      lookup[word] = true;
    });
    var shared = ours.filter(function (word) {
      return lookup[word];
    }).length;
    return shared / (ours.length + theirs.length - shared);
  }

  function countOwnSentences(letter, campaignText) {
    var theirs = sentences(campaignText).map(wordSet);
    return sentences(letter).filter(function (sentence) {
      if (sentence.length < MIN_SENTENCE_WORDS) {
        return false;
      }
      var ours = wordSet(sentence);
      return theirs.every(function (set) {
        return jaccard(ours, set) < NEAR_COPY;
      });
    }).length;
  }

  function runs(sentence) {
    var result = [];
    for (var i = 0; i + RUN <= sentence.length; i += 1) {
      result.push(sentence.slice(i, i + RUN).join(" "));
    }
    return result;
  }

  function ownWordShare(letter, campaignText) {
    var ours = sentences(letter);
    var total = 0;
    var copied = 0;
    var campaignRuns = {};
    sentences(campaignText).forEach(function (sentence) {
      runs(sentence).forEach(function (run) {
        campaignRuns[run] = true;
      });
    });
    ours.forEach(function (sentence) {
      var marks = sentence.map(function () {
        return false;
      });
      runs(sentence).forEach(function (run, start) {
        if (Object.prototype.hasOwnProperty.call(campaignRuns, run)) {
          for (var i = start; i < start + RUN; i += 1) {
            marks[i] = true;
          }
        }
      });
      total += sentence.length;
      copied += marks.filter(Boolean).length;
    });
    return total ? 1 - copied / total : 0;
  }

  function describeOwnWords(letter, campaignText) {
    if (!words(letter).length) {
      return "";
    }
    var own = countOwnSentences(letter, campaignText);
    var percent = Math.round(ownWordShare(letter, campaignText) * 100);
    if (own === 0 && percent === 0) {
      return "Your letter is the campaign's text as it stands. A sentence or two about why " +
        "this matters to you makes it count for more.";
    }
    var mine = own === 0 ? "no sentences of your own yet" :
      own + " sentence" + (own === 1 ? "" : "s") + " of your own";
    return "About " + percent + "% of this letter is in your own words (" + mine + ").";
  }

  function watchOwnWords() {
    var hint = document.getElementById("personal-touch");
    var body = document.getElementById("body");
    if (!hint || !body || !hint.hasAttribute("data-campaign-text")) {
      return;
    }
    var campaignText = hint.getAttribute("data-campaign-text");
    var timer = null;
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      // After a pause, so a screen reader hears one update, not one per key.
      timer = window.setTimeout(function () {
        var text = describeOwnWords(body.value, campaignText);
        if (hint.textContent !== text) {
          hint.textContent = text;
        }
      }, 1200);
    });
  }

  function start() {
    focusErrorSummary();
    enableCopyButtons();
    watchOwnWords();
  }

  if (typeof module !== "undefined" && module.exports) {
    // For tests that run this measure under Node beside the Python one.
    module.exports = { describeOwnWords: describeOwnWords };
    return;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
