// chungthuc signing page: hands the digest to the officer's local signing agent
// (cmd/chungthuc-agent, a loopback address named by the page; the page's CSP allows only
// that origin besides its own) and posts the signature value, with the device's
// certificate chain, through the page's own form (CSRF token first). Without script, or
// without an agent, the value can be pasted into the same form.
"use strict";
(function () {
  var form = document.getElementById("signature-form");
  var button = document.getElementById("agent-sign");
  if (!form || !button || !form.dataset.agent || !window.fetch) return;
  var status = document.getElementById("agent-status");
  var agent = form.dataset.agent.replace(/\/+$/, "");
  var say = function (msg) { status.textContent = msg; };
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say(form.dataset.busy);
    fetch(agent + "/v1/sign", {
      method: "POST", mode: "cors", credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ digest: form.dataset.digest, algorithm: "SHA-256" })
    }).then(function (res) {
      if (res.status === 403) throw new Error(form.dataset.declined);
      if (!res.ok) throw new Error(form.dataset.fail);
      return res.json();
    }).then(function (out) {
      if (!out || typeof out.signature !== "string" || !out.signature) throw new Error(form.dataset.fail);
      form.elements.signature.value = out.signature;
      // The chain is optional (the registered certificate is used without it).
      return fetch(agent + "/v1/certificates", { mode: "cors", credentials: "omit", cache: "no-store" })
        .then(function (res) { return res.ok ? res.json() : null; })
        .catch(function () { return null; });
    }).then(function (certs) {
      if (certs && Array.isArray(certs.certificates)) form.elements.chain.value = certs.certificates.join("\n");
      form.submit();
    }).catch(function (err) {
      var msg = err && err.message;
      say(msg === form.dataset.declined ? msg : form.dataset.fail);
      button.disabled = false;
    });
  });
})();
