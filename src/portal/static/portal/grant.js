/* The workplace-aids grant, shown as the person types. The same rule is applied on the server,
   which shows the figure after "Fortsätt" too; this only saves a round trip. */
(function () {
  "use strict";
  var box = document.querySelector("[data-grant]");
  var cost = document.getElementById("id_cost");
  if (!box || !cost) {
    return;
  }
  var result = box.querySelector("[data-grant-result]");
  var ownShare = Number(box.getAttribute("data-own-share"));
  var cap = Number(box.getAttribute("data-cap"));
  var computerCap = Number(box.getAttribute("data-computer-cap"));
  var format = new Intl.NumberFormat("sv-SE", { maximumFractionDigits: 0 });
  var sentence = box.getAttribute("data-sentence");

  function kind() {
    var checked = document.querySelector("input[name='aid_kind']:checked");
    return checked ? checked.value : "";
  }

  function amount(text) {
    var cleaned = text.replace(/[\s\u00a0\u202f]/g, "").replace(/(kr\.?|:-)$/i, "").replace(/[,.]00?$/, "");
    return /^\d+$/.test(cleaned) ? Number(cleaned) : null;
  }

  var timer = null;
  function update() {
    var value = amount(cost.value);
    var sort = kind();
    if (value === null || value < 1 || !sort) {
      return;
    }
    var grant = Math.min(sort === "computer" ? computerCap : cap, Math.floor(Math.max(0, value - ownShare) / 2));
    var text = format.format(grant) + "\u00a0kr";
    // Announced once typing pauses, not at every key.
    clearTimeout(timer);
    timer = setTimeout(function () {
      result.textContent = sentence.replace("{amount}", text);
    }, 400);
  }

  cost.addEventListener("input", update);
  document.querySelectorAll("input[name='aid_kind']").forEach(function (input) {
    input.addEventListener("change", update);
  });
})();
