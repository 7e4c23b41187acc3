// Touchpoint playground: GraphiQL with HTTP Basic credentials. Served from
// the binary with the page's Content-Security-Policy forbidding inline
// scripts, so the page's settings arrive as data attributes.
(function () {
  "use strict";
  var body = document.body;
  var endpoint = body.getAttribute("data-endpoint") || "/graphql";
  var demo = body.getAttribute("data-demo-credentials") || "";
  var defaultQuery = body.getAttribute("data-default-query") || "";
  // The example queries, each in a tab of its own after the default one.
  var examples = [];
  try {
    examples = JSON.parse(body.getAttribute("data-examples") || "[]");
  } catch (e) {
    examples = [];
  }
  var storageKey = "touchpoint.credentials";

  function credentials() {
    return sessionStorage.getItem(storageKey) || demo;
  }

  var form = document.getElementById("key-form");
  var input = document.getElementById("key-input");
  var status = document.getElementById("key-status");
  input.value = credentials();
  function showStatus() {
    var c = credentials();
    status.textContent = c ? "using key " + c.split(":")[0] : "enter an API key as KEY:SECRET";
  }
  showStatus();
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = input.value.trim();
    if (v && v.indexOf(":") < 1) {
      status.textContent = "the key must look like KEY:SECRET";
      return;
    }
    if (v) {
      sessionStorage.setItem(storageKey, v);
    } else {
      sessionStorage.removeItem(storageKey);
    }
    showStatus();
  });

  // The fetcher reads the credentials on every request, so a key entered
  // after the page loaded is used at once.
  function fetcher(params) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var c = credentials();
    if (c) {
      headers.Authorization = "Basic " + btoa(unescape(encodeURIComponent(c)));
    }
    return fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
      credentials: "omit",
    }).then(function (res) {
      return res.json();
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultTabs: [{ query: defaultQuery }].concat(examples),
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
