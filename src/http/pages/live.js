// The pages' live view: the one script of the site. A page that names what it follows in
// <main data-follow="inquiry:<id>"> or "events" subscribes over graphql-transport-ws at
// /graphql/ws (the session cookie is the connection's sign-in, so what arrives is only what the
// reader may read). When something arrives, the page is read again from the server and each
// element marked data-live="<name>" is replaced with the new one of the same name; forms are
// never inside such an element, so nothing typed is lost. A closed connection (the server ends
// it when the reader's rights change, or it restarts) is opened again after 1 s, doubling to
// 30 s, and the page is read once more when it is back. Without this script every page works,
// only without live updates.
(function () {
  "use strict";
  var main = document.querySelector("main[data-follow]");
  if (!main || !window.WebSocket || !window.fetch || !window.DOMParser) {
    return;
  }
  var follow = main.getAttribute("data-follow");
  var query, variables = {};
  if (follow.indexOf("inquiry:") === 0) {
    query = "subscription($id: ID!) { inquiryUpdated(id: $id) { id } }";
    variables = { id: follow.slice("inquiry:".length) };
  } else {
    query = "subscription { events { id } }";
  }
  var status = document.getElementById("live-status");
  var backoff = 1000;
  var pending = null;
  var connections = 0;

  function refresh() {
    pending = null;
    fetch(window.location.pathname + window.location.search, {
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    }).then(function (response) {
      if (!response.ok) { return null; }
      return response.text();
    }).then(function (html) {
      if (!html) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var changed = false;
      document.querySelectorAll("[data-live]").forEach(function (old) {
        var name = old.getAttribute("data-live");
        var next = fresh.querySelector('[data-live="' + name.replace(/"/g, "") + '"]');
        if (next && next.innerHTML !== old.innerHTML) {
          old.innerHTML = next.innerHTML;
          changed = true;
        }
      });
      if (changed && status) {
        status.textContent = status.getAttribute("data-text") || "";
      }
    }).catch(function () {});
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/graphql/ws", "graphql-transport-ws");
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
    };
    socket.onmessage = function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.type === "connection_ack") {
        backoff = 1000;
        connections += 1;
        main.setAttribute("data-live-ready", "live");
        main.setAttribute("data-live-connections", String(connections));
        socket.send(JSON.stringify({ id: "live", type: "subscribe", payload: { query: query, variables: variables } }));
        // Back after a break: what happened meanwhile is read at once.
        if (connections > 1 && !pending) { pending = window.setTimeout(refresh, 200); }
      } else if (data.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (data.type === "next") {
        if (!pending) { pending = window.setTimeout(refresh, 200); }
      }
    };
    socket.onclose = function () {
      main.setAttribute("data-live-ready", "reconnecting");
      window.setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  main.setAttribute("data-live-ready", "connecting");
  connect();
})();
