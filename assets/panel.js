// Panel's browser-side helpers. Nothing here talks to the server on a timer.
//
// Countdowns: an element with data-countdown="<seconds left>" and
// data-countdown-stamp="<when the server computed it>" shows mm:ss, counted down
// in the browser. A new stamp (a new value from the server) restarts it. At zero,
// the element named by data-on-zero (a hidden button) is clicked once, so the page
// asks the server exactly once instead of every second.
//
// Language: <html lang> follows the page's #panel-lang marker (see followLanguage).
// Grant's end (components/grant_expiry.py): the notice [data-grant-ending="<seconds>"] is
// shown while the grant countdown is within that many seconds of zero. The plain fields of
// the forms inside [data-keep-drafts] are kept as typed in this tab's sessionStorage (never
// on the server; never passwords, codes or payment details: [data-no-draft]): when the
// grant ends the drafts are held and put back into their forms once the page is open
// again (a record's form is reopened by the button its data-draft-opener names). A draft
// goes when its form goes while the grant holds (saved, closed, another page), when the
// page reports its form saved (data-drafts-saved), and on sign-out or "lock now".
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

  // Seconds left of the grant as the header counts them; null without a grant.
  function grantLeft() {
    var el = document.getElementById("grant-countdown");
    if (!el) return null;
    var clock = clocks.get(el);
    if (!clock) return parseInt(el.getAttribute("data-countdown"), 10) || 0;
    return Math.max(0, Math.ceil((clock.deadline - performance.now()) / 1000));
  }

  function showGrantEnding() {
    var notice = document.querySelector("[data-grant-ending]");
    if (!notice) return;
    var left = grantLeft();
    var warn = parseInt(notice.getAttribute("data-grant-ending"), 10) || 60;
    var show = left !== null && left > 0 && left <= warn;
    if (notice.hidden === show) notice.hidden = !show;
  }

  // --- drafts -------------------------------------------------------------------------
  var DRAFT = "panel.draft|";
  var SKIP_TYPES = { password: 1, hidden: 1, file: 1, submit: 1, button: 1, reset: 1, image: 1,
                     checkbox: 1, radio: 1 };
  var SECRET_NAME = /(^|[_-])(code|codes|password|passphrase|secret|token|otp|pin)($|[_-])/i;
  var forms = [];  // the draft forms on the page: {form, key}
  var savedSeen = new WeakMap();

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function scope() { return location.pathname.replace(/\/+$/, "") + location.search; }

  function draftField(el) {
    if (!el || !el.name || !el.form || typeof el.closest !== "function") return false;
    var tag = el.tagName;
    if (tag !== "INPUT" && tag !== "TEXTAREA" && tag !== "SELECT") return false;
    if (tag === "INPUT" && SKIP_TYPES[(el.getAttribute("type") || "text").toLowerCase()]) return false;
    var auto = (el.getAttribute("autocomplete") || "").toLowerCase();
    if (auto.indexOf("one-time-code") >= 0 || auto.indexOf("password") >= 0) return false;
    // Payment details (a card number, an IBAN) are never drafts: cc-* fields and whatever
    // sits in [data-no-draft] (components mark their forms so).
    if (/(^|\s)cc-/.test(auto) || el.closest("[data-no-draft]")) return false;
    if (SECRET_NAME.test(el.name) || el.closest("[aria-hidden='true']")) return false;
    return !!el.form.closest("[data-keep-drafts]");
  }

  function draftKey(form) {
    var name = form.getAttribute("data-draft-key") || form.id;
    if (!name) {
      for (var i = 0; i < form.elements.length && !name; i++) {
        if (draftField(form.elements[i])) name = form.elements[i].name;
      }
    }
    return name ? DRAFT + scope() + "|" + name : "";
  }

  function readDraft(key) {
    var s = store();
    if (!s || !key) return null;
    try { return JSON.parse(s.getItem(key) || "null"); } catch (e) { return null; }
  }

  function writeDraft(key, draft) {
    var s = store();
    if (!s || !key) return;
    try { s.setItem(key, JSON.stringify(draft)); } catch (e) { /* full: the draft is not kept */ }
  }

  function dropDraft(key) {
    var s = store();
    if (s && key) s.removeItem(key);
  }

  function draftKeys(prefix) {
    var s = store(), keys = [];
    if (!s) return keys;
    for (var i = 0; i < s.length; i++) {
      var key = s.key(i);
      if (key && key.indexOf(prefix) === 0) keys.push(key);
    }
    return keys;
  }

  window.panelForgetDrafts = function () {
    draftKeys(DRAFT).forEach(dropDraft);
  };

  function remember(event) {
    var el = event.target;
    if (!draftField(el)) return;
    var key = draftKey(el.form);
    var draft = readDraft(key) || { values: {} };
    draft.values[el.name] = String(el.value).slice(0, 10000);
    draft.sent = false;
    draft.opener = el.form.getAttribute("data-draft-opener") || "";
    writeDraft(key, draft);
  }

  function setValue(el, value) {
    // Through the element's own setter, then an input event: React sees it as typed.
    var proto = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype
      : el.tagName === "SELECT" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    var setter = Object.getOwnPropertyDescriptor(proto, "value").set;
    setter.call(el, value);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function restore(form, draft) {
    Object.keys(draft.values || {}).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (el && draftField(el) && el.value !== draft.values[name]) setValue(el, String(draft.values[name]));
    });
  }

  function grantHolds() {
    var left = grantLeft();
    return left !== null && left > 1 && !document.querySelector("#main #verification-gate");
  }

  function keepDrafts() {
    if (location.pathname.indexOf("/login") === 0) { window.panelForgetDrafts(); return; }
    var holds = grantHolds();
    forms = forms.filter(function (entry) {
      if (entry.form.isConnected) return true;
      var draft = readDraft(entry.key);
      if (draft && holds) dropDraft(entry.key);  // saved, closed or left: nothing to keep
      else if (draft) { draft.held = true; draft.opened = false; writeDraft(entry.key, draft); }
      return false;
    });
    var found = document.querySelectorAll("[data-keep-drafts] form");
    for (var i = 0; i < found.length; i++) {
      var form = found[i];
      if (forms.some(function (entry) { return entry.form === form; })) continue;
      var key = draftKey(form);
      if (!key) continue;
      forms.push({ form: form, key: key });
      var draft = readDraft(key);
      if (draft && draft.held) {
        draft.held = false;
        writeDraft(key, draft);
        restore(form, draft);
      } else if (draft) {
        dropDraft(key);  // left from an earlier visit (a reload): not held by a grant's end
      }
    }
    var keeper = document.querySelector("[data-keep-drafts]");
    if (!keeper) return;
    var saved = keeper.getAttribute("data-drafts-saved");
    if (savedSeen.has(keeper) && savedSeen.get(keeper) !== saved && saved !== "0") {
      draftKeys(DRAFT + scope() + "|").forEach(function (key) {
        var draft = readDraft(key);
        if (draft && draft.sent && !draft.held) dropDraft(key);
      });
    }
    savedSeen.set(keeper, saved);
    // A held draft whose form is closed: open it once with the button it names.
    draftKeys(DRAFT + scope() + "|").forEach(function (key) {
      var draft = readDraft(key);
      if (!draft || !draft.held || draft.opened || !draft.opener) return;
      if (forms.some(function (entry) { return entry.key === key; })) return;
      var opener = document.getElementById(draft.opener);
      if (!opener) return;
      draft.opened = true;
      writeDraft(key, draft);
      opener.click();
    });
  }

  document.addEventListener("input", remember, true);
  document.addEventListener("change", remember, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.closest || !form.closest("[data-keep-drafts]")) return;
    var key = draftKey(form);
    var draft = readDraft(key);
    if (draft) { draft.sent = true; writeDraft(key, draft); }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#logout-button, #lock-now")) window.panelForgetDrafts();
  }, true);

  function everyTick() {
    tick();
    showGrantEnding();
    keepDrafts();
  }

  window.setInterval(everyTick, 250);
  new MutationObserver(everyTick).observe(document.documentElement,
    { subtree: true, childList: true, attributes: true,
      attributeFilter: ["data-countdown", "data-countdown-stamp", "data-drafts-saved"] });

  // Write ``value`` (text, or a list of lines) into the element ``id``; an <img> gets it
  // as its src. ``seconds`` > 0: clear it again after that long. The element may be
  // rendered a moment after the call: try for up to two seconds.
  // Call ``use`` with what ``find`` returns once that is something, trying every 50 ms up
  // to ``attempts`` times (an element the server just rendered may not be shown yet).
  function whenFound(find, attempts, use) {
    var tries = 0;
    (function attempt() {
      var found = find();
      if (found) use(found);
      else if (tries++ < attempts) window.setTimeout(attempt, 50);
    })();
  }

  window.panelReveal = function (id, value, seconds) {
    whenFound(function () { return document.getElementById(id); }, 40, function (el) {
      var text = Array.isArray(value) ? value.join("\n") : String(value);
      if (el.tagName === "IMG") el.src = text; else el.textContent = text;
      if (seconds > 0) {
        window.setTimeout(function () {
          if (el.tagName === "IMG") el.removeAttribute("src"); else el.textContent = "";
        }, seconds * 1000);
      }
    });
  };

  // Keyboard focus after the verification gate's steps (no focus is lost on a control
  // that disappears or becomes disabled): ``selector`` names the element to focus, the
  // first match in the page once it is there and, given ``whenGone``, once that element
  // has left the page (the gate giving way to the page's content). Tries for up to
  // three seconds while the page renders. A heading gets tabindex=-1 to take the focus.
  window.panelFocus = function (selector, whenGone) {
    whenFound(function () {
      var el = whenGone && document.querySelector(whenGone) ? null : document.querySelector(selector);
      return el && !el.disabled ? el : null;
    }, 60, function (el) {
      if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
    });
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
    whenFound(function () { return document.querySelector(selector); }, 40, function (el) {
      el.scrollIntoView({ block: focusSelector ? "start" : "nearest" });
      var target = focusSelector && document.querySelector(focusSelector);
      if (target) target.focus({ preventScroll: true });
    });
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
