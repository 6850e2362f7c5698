/*
 * The e-ID order page: every second, ask the portal for the order's state and the next frame of
 * the animated QR code. The portal computes each frame itself (the QR secret never reaches the
 * browser) and asks BankID for the result at most every two seconds. Without JavaScript the page
 * reloads itself every two seconds instead (a <noscript> refresh), which works the same, slower.
 */
(function () {
  "use strict";
  var root = document.querySelector("[data-eid-status-url]");
  if (!root || !root.getAttribute("data-eid-status-url")) {
    return;
  }
  var url = root.getAttribute("data-eid-status-url");
  var qr = root.querySelector("[data-eid-qr]");
  var message = root.querySelector("[data-eid-message]");
  var busy = false;
  var failures = 0;

  function update(data) {
    if (data.redirect) {
      window.location.assign(data.redirect);
      return;
    }
    if (data.status !== "pending") {
      // Failed or cancelled: the page itself shows what to do next.
      window.location.reload();
      return;
    }
    if (message && data.message && message.textContent !== data.message) {
      message.textContent = data.message;
    }
    if (qr && data.qr) {
      qr.innerHTML = data.qr;
    }
  }

  function tick() {
    if (busy) {
      return;
    }
    busy = true;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        update(data);
      })
      .catch(function () {
        failures += 1;
        if (failures >= 3) {
          window.location.reload();
        }
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(tick, 1000);
})();
