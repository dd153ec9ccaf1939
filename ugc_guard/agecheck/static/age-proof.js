// The Proof of Age button of the terms page (ugc_guard, method eu-age-verification).
// Asks the server for an OpenID4VP request, hands it to the browser's Digital Credentials API
// (the wallet shows who asks for what), and posts the wallet's answer back for verification.
// Where the browser has no Digital Credentials API, the explanation of the alternatives stays shown.
(() => {
  "use strict";
  const box = document.getElementById("age-proof");
  if (!box) return;
  const status = document.getElementById("age-proof-status");
  const button = document.getElementById("age-proof-button");
  const messages = JSON.parse(box.dataset.messages || "{}");
  const protocol = "openid4vp-v1-unsigned";
  const api = typeof window.DigitalCredential === "function" && navigator.credentials && typeof navigator.credentials.get === "function";
  const allowed = api && (typeof window.DigitalCredential.userAgentAllowsProtocol !== "function" || window.DigitalCredential.userAgentAllowsProtocol(protocol));
  if (!allowed) return;
  box.querySelector(".age-proof-unsupported").hidden = true;
  box.querySelector(".age-proof-supported").hidden = false;

  const say = (text) => { status.textContent = text; };
  const post = async (url, payload) => {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: {"content-type": "application/json"}, body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.title || response.statusText);
    return body;
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    say(messages.waiting);
    try {
      const request = await post(box.dataset.requestUrl, {});
      const credential = await navigator.credentials.get({mediation: "required", digital: request.digital});
      if (!credential) throw Object.assign(new Error(""), {name: "AbortError"});
      const data = typeof credential.data === "string" ? JSON.parse(credential.data) : credential.data;
      say(messages.checking);
      const result = await post(request.response_url, {nonce: request.nonce, protocol: credential.protocol, data});
      say(messages.done.replace("{band}", result.band));
      window.location.reload();
    } catch (error) {
      const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      say(cancelled ? messages.cancelled : `${messages.failed} ${error && error.message ? error.message : ""}`.trim());
      button.disabled = false;
    }
  });
})();
