// Panel's browser-side helpers. Nothing here talks to the server on a timer.
//
// Countdowns: an element with data-countdown="<seconds left>" and
// data-countdown-stamp="<when the server computed it>" shows mm:ss, counted down
// in the browser. A new stamp (a new value from the server) restarts it. At zero,
// the element named by data-on-zero (a hidden button) is clicked once, so the page
// asks the server exactly once instead of every second.
//
// Reveals: a secret shown once (recovery codes, a transfer auth code, an
// authenticator set-up key) is written straight into the page by a one-off
// script call and never kept in the server-held state of the tab.
(function () {
  "use strict";
  var clocks = new WeakMap();

  function mmss(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function tick() {
    var nodes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var stamp = el.getAttribute("data-countdown-stamp") + "/" + el.getAttribute("data-countdown");
      var clock = clocks.get(el);
      if (!clock || clock.stamp !== stamp) {
        var seconds = parseInt(el.getAttribute("data-countdown"), 10) || 0;
        clock = { stamp: stamp, deadline: performance.now() + seconds * 1000, fired: false };
        clocks.set(el, clock);
      }
      var left = Math.max(0, Math.ceil((clock.deadline - performance.now()) / 1000));
      var text = mmss(left);
      if (el.textContent !== text) el.textContent = text;
      if (left === 0 && !clock.fired) {
        clock.fired = true;
        var target = el.getAttribute("data-on-zero");
        var button = target && document.getElementById(target);
        if (button) button.click();
      }
    }
  }

  window.setInterval(tick, 250);
  new MutationObserver(tick).observe(document.documentElement,
    { subtree: true, childList: true, attributes: true, attributeFilter: ["data-countdown", "data-countdown-stamp"] });

  // Write ``value`` (text, or a list of lines) into the element ``id``; an <img> gets it
  // as its src. ``seconds`` > 0: clear it again after that long. The element may be
  // rendered a moment after the call: try for up to two seconds.
  window.panelReveal = function (id, value, seconds) {
    var tries = 0;
    (function place() {
      var el = document.getElementById(id);
      if (!el) {
        if (tries++ < 40) window.setTimeout(place, 50);
        return;
      }
      var text = Array.isArray(value) ? value.join("\n") : String(value);
      if (el.tagName === "IMG") el.src = text; else el.textContent = text;
      if (seconds > 0) {
        window.setTimeout(function () {
          if (el.tagName === "IMG") el.removeAttribute("src"); else el.textContent = "";
        }, seconds * 1000);
      }
    })();
  };

  // After a successful verification: ask the server for this browser's known-device
  // cookie (HttpOnly, so only an HTTP response can set it). Nothing is read back.
  window.panelRememberDevice = function (url) {
    window.fetch(url, { method: "POST", credentials: "include", cache: "no-store" }).catch(function () {});
  };

  window.panelConceal = function (id) {
    var el = document.getElementById(id);
    if (!el) return;
    if (el.tagName === "IMG") el.removeAttribute("src"); else el.textContent = "";
  };
})();
