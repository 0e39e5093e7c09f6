// Panel's browser-side helpers. Nothing here talks to the server on a timer.
//
// Countdowns: an element with data-countdown="<seconds left>" and
// data-countdown-stamp="<when the server computed it>" shows mm:ss, counted down
// in the browser. A new stamp (a new value from the server) restarts it. At zero,
// the element named by data-on-zero (a hidden button) is clicked once, so the page
// asks the server exactly once instead of every second.
//
// Language: <html lang> follows the page's #panel-lang marker (see followLanguage).
//
// Reveals: a secret shown once (recovery codes, a transfer auth code, an
// authenticator set-up key) is written straight into the page by a one-off
// script call and never kept in the server-held state of the tab.
(function () {
  "use strict";
  // Should this file ever be evaluated twice (a head manager re-inserting its tag): one set
  // of timers and listeners only, or a click would copy, download or print twice.
  if (window.panelLoaded) return;
  window.panelLoaded = true;
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

  // Keyboard focus after the verification gate's steps (no focus is lost on a control
  // that disappears or becomes disabled): ``selector`` names the element to focus, the
  // first match in the page once it is there and, given ``whenGone``, once that element
  // has left the page (the gate giving way to the page's content). Tries for up to
  // three seconds while the page renders. A heading gets tabindex=-1 to take the focus.
  window.panelFocus = function (selector, whenGone) {
    var tries = 0;
    (function attempt() {
      var blocked = whenGone && document.querySelector(whenGone);
      var el = blocked ? null : document.querySelector(selector);
      if (!el || el.disabled) {
        if (tries++ < 60) window.setTimeout(attempt, 50);
        return;
      }
      if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
    })();
  };

  // "Send code": the code goes into the field below.
  window.panelFocusCode = function () { window.panelFocus("#verification-code"); };

  // "Verify" succeeded: the page's own content (its main heading, else its first field).
  window.panelFocusContent = function () {
    window.panelFocus("#main h1, #main input:not([type=hidden]), #main textarea, #main select",
      "#verification-gate");
  };

  // Bring the element ``selector`` into view and, when ``focusSelector`` names one, move
  // the focus there: an edit form that opens far below the row whose "Edit" was clicked,
  // or its "saved" message. The selector names the version of the element the server
  // just rendered (the call can arrive before the browser shows it): try for two seconds.
  window.panelShowInPlace = function (selector, focusSelector) {
    var tries = 0;
    (function show() {
      var el = document.querySelector(selector);
      if (!el) {
        if (tries++ < 40) window.setTimeout(show, 50);
        return;
      }
      el.scrollIntoView({ block: focusSelector ? "start" : "nearest" });
      var target = focusSelector && document.querySelector(focusSelector);
      if (target) target.focus({ preventScroll: true });
    })();
  };

  // After a successful verification: ask the server for this browser's known-device
  // cookie (HttpOnly, so only an HTTP response can set it). Nothing is read back.
  window.panelRememberDevice = function (url) {
    window.fetch(url, { method: "POST", credentials: "include", cache: "no-store" }).catch(function () {});
  };

  // Revealed text (new recovery codes) can be copied, downloaded as a .txt file and
  // printed, all from what is already on the page: nothing goes back to the server, and
  // no inline script is needed (CSP). A button names its target element:
  //   data-panel-copy="<id>" | data-panel-download="<id>" (data-filename, data-header:
  //   lines put before the text) | data-panel-print="<id>" (prints only that element);
  // data-status="<id>" is a role=status element told data-done, or data-failed.
  function revealedText(id) {
    var el = document.getElementById(id);
    return el ? el.textContent.replace(/^\s+|\s+$/g, "") : "";
  }

  function announce(button, ok) {
    var status = document.getElementById(button.getAttribute("data-status") || "");
    if (!status) return;
    status.textContent = "";  // the same message twice is still announced
    window.setTimeout(function () {
      status.textContent = button.getAttribute(ok ? "data-done" : "data-failed") || "";
    }, 30);
  }

  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  // Resolves to true once ``id``'s text is on the clipboard.
  window.panelCopyText = function (id) {
    var text = revealedText(id);
    if (!text) return Promise.resolve(false);
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text + "\n").then(function () { return true; },
        function () { return copyBySelection(text + "\n"); });
    }
    return Promise.resolve(copyBySelection(text + "\n"));
  };

  window.panelDownloadText = function (id, filename, header) {
    var text = revealedText(id);
    if (!text) return false;
    var body = (header ? header + "\n\n" : "") + text + "\n";
    var url = URL.createObjectURL(new Blob([body], { type: "text/plain;charset=utf-8" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = filename || "panel.txt";
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    return true;
  };

  // Print only ``id`` (panel.css: @media print hides everything else while it is marked).
  window.panelPrintOnly = function (id) {
    var el = document.getElementById(id);
    if (!el || !revealedText(id)) return false;
    var root = document.documentElement;
    el.classList.add("panel-print-target");
    root.setAttribute("data-print-only", "");
    var done = function () {
      el.classList.remove("panel-print-target");
      root.removeAttribute("data-print-only");
      window.removeEventListener("afterprint", done);
    };
    window.addEventListener("afterprint", done);
    window.print();
    return true;
  };

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(
      "[data-panel-copy], [data-panel-download], [data-panel-print]");
    if (!button) return;
    if (button.hasAttribute("data-panel-copy")) {
      window.panelCopyText(button.getAttribute("data-panel-copy")).then(function (ok) { announce(button, ok); });
    } else if (button.hasAttribute("data-panel-download")) {
      announce(button, window.panelDownloadText(button.getAttribute("data-panel-download"),
        button.getAttribute("data-filename"), button.getAttribute("data-header")));
    } else {
      announce(button, window.panelPrintOnly(button.getAttribute("data-panel-print")));
    }
  });

  window.panelConceal = function (id) {
    var el = document.getElementById(id);
    if (!el) return;
    if (el.tagName === "IMG") el.removeAttribute("src"); else el.textContent = "";
  };

  // <html lang> follows the tab's language: the element #panel-lang (on every page,
  // components/i18n.tab_marker) carries it in data-lang, set by the server.
  function followLanguage() {
    var marker = document.getElementById("panel-lang");
    var lang = marker && marker.getAttribute("data-lang");
    if (lang && /^[a-z]{2,3}$/.test(lang) && document.documentElement.lang !== lang) {
      document.documentElement.lang = lang;
    }
  }
  followLanguage();
  new MutationObserver(followLanguage).observe(document.documentElement,
    { subtree: true, childList: true, attributes: true, attributeFilter: ["data-lang"] });
})();
