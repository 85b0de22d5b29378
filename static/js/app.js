/*
 * SkyBot Inbox web UI: live updates and notices. No page has inline script (strict CSP); pages
 * declare what they need with attributes instead.
 *
 * Live feeds: <body data-feeds="inbox agents"> opens a WebSocket per feed (/ws/<feed>/, signed in
 * by the session cookie). Each event the server sends ({"event": "message.created", "data": {...}})
 * is dispatched on document.body as the DOM event "skybot:message.created" with the data as
 * `detail`, so any htmx element can follow it:
 *     hx-trigger="skybot:message.created from:body"
 * After a reconnect "skybot:resync" is dispatched: events sent while the socket was down are lost,
 * so lists listening to it reload themselves. #live-status shows the connection state.
 *
 * Filters on events: an element with data-live-conversation="42" only takes events whose data has
 * conversation (or conversation_id or id) 42 — see `matches` below — through the
 * "skybot:live" + data-live-events attributes:
 *     <div hx-get="..." hx-trigger="skybot:live" data-live-events="message.created message.status"
 *          data-live-conversation="42">
 */
(function () {
  "use strict";

  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 30000;
  var sockets = {};

  function setStatus(state) {
    var el = document.getElementById("live-status");
    if (el) {
      el.dataset.state = state;
      el.title = state === "open" ? "Live updates on" : state === "closed" ? "Reconnecting…" : "Live updates";
    }
  }

  function openStates() {
    var states = Object.keys(sockets).map(function (feed) { return sockets[feed].state; });
    if (states.length === 0) return;
    if (states.every(function (s) { return s === "open"; })) setStatus("open");
    else if (states.some(function (s) { return s === "denied"; })) setStatus("denied");
    else setStatus("closed");
  }

  function conversationOf(data) {
    if (!data) return null;
    if (data.conversation_id != null) return String(data.conversation_id);
    if (data.conversation != null) return String(typeof data.conversation === "object" ? data.conversation.id : data.conversation);
    return null;
  }

  function matches(el, event, data) {
    var wanted = (el.dataset.liveEvents || "").split(/\s+/).filter(Boolean);
    if (wanted.length && wanted.indexOf(event) === -1) return false;
    var conversation = el.dataset.liveConversation;
    if (conversation && conversationOf(data) !== conversation && String(data && data.id) !== conversation) return false;
    var agent = el.dataset.liveAgent;
    if (agent && String(data && (data.agent_id != null ? data.agent_id : data.agent)) !== agent && String(data && data.id) !== agent) return false;
    return true;
  }

  function dispatch(event, data) {
    document.body.dispatchEvent(new CustomEvent("skybot:" + event, { detail: data }));
    var targets = document.querySelectorAll("[data-live-events]");
    for (var i = 0; i < targets.length; i++) {
      if (matches(targets[i], event, data)) {
        targets[i].dispatchEvent(new CustomEvent("skybot:live", { detail: { event: event, data: data } }));
      }
    }
  }

  function connect(feed) {
    var entry = sockets[feed] || (sockets[feed] = { delay: RECONNECT_MIN_MS, state: "connecting", wasOpen: false });
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    // Platform staff acting in a tenant name it (data-feed-account); everybody else's is their own.
    var account = document.body.dataset.feedAccount;
    var query = account ? "?account=" + encodeURIComponent(account) : "";
    var socket = new WebSocket(scheme + window.location.host + "/ws/" + feed + "/" + query);
    entry.socket = socket;
    socket.addEventListener("message", function (message) {
      var payload;
      try { payload = JSON.parse(message.data); } catch (e) { return; }
      if (payload.event === "ready") {
        entry.state = "open";
        entry.delay = RECONNECT_MIN_MS;
        openStates();
        if (entry.wasOpen) dispatch("resync", { feed: feed });
        entry.wasOpen = true;
        return;
      }
      if (payload.event === "pong") return;
      dispatch(payload.event, payload.data);
    });
    socket.addEventListener("close", function (close) {
      // 4401/4403: signed out or no access; retrying would not help until the page reloads.
      if (close.code === 4401 || close.code === 4403) {
        entry.state = "denied";
        openStates();
        return;
      }
      entry.state = "closed";
      openStates();
      var delay = entry.delay;
      entry.delay = Math.min(entry.delay * 2, RECONNECT_MAX_MS);
      window.setTimeout(function () { connect(feed); }, delay + Math.random() * 250);
    });
  }

  function showToast(message, level) {
    var area = document.getElementById("toasts");
    if (!area) return;
    var toast = document.createElement("div");
    toast.className = "toast " + (level || "error");
    toast.setAttribute("role", "alert");
    toast.textContent = message;
    area.appendChild(toast);
    window.setTimeout(function () { toast.remove(); }, 8000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var feeds = (document.body.dataset.feeds || "").split(/\s+/).filter(Boolean);
    feeds.forEach(connect);
    // A page that follows no feed has nothing live to report.
    var status = document.getElementById("live-status");
    if (status && feeds.length === 0) status.hidden = true;

    // Notices the server appended to #toasts fade out by themselves.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "toasts") {
        var last = event.detail.target.lastElementChild;
        if (last) window.setTimeout(function () { last.remove(); }, 8000);
      }
    });
    document.body.addEventListener("htmx:responseError", function () {
      showToast("Something went wrong on our side. Please try again.");
    });
    document.body.addEventListener("htmx:sendError", function () {
      showToast("The server cannot be reached. Check your connection.");
    });

    // <button data-copy="#id"> copies the text of the element it names (secrets shown once).
    document.body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy]");
      if (!button) return;
      var source = document.querySelector(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.value || source.textContent.trim()).then(function () {
        showToast("Copied.", "success");
      });
    });

    // <form data-confirm="Revoke this key?"> asks before submitting.
    document.body.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopPropagation();
      }
    }, true);
  });

  window.SkyBot = { toast: showToast };
})();
