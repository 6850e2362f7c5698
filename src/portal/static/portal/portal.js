/* Progressive enhancement shared by every page. Nothing here is needed for a page to work. */
(function () {
  "use strict";
  // GOV.UK's error summary pattern: after a failed submit, move focus to the list of errors so
  // that a screen reader announces them and keyboard users start there.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
  // Content under a radio option ([data-reveal-for] names the option's id) is shown only while
  // that option is chosen. Without JavaScript all of it is shown and the server uses what the
  // chosen option asks for.
  var reveals = document.querySelectorAll("[data-reveal-for]");
  function updateReveals() {
    for (var i = 0; i < reveals.length; i++) {
      var option = document.getElementById(reveals[i].getAttribute("data-reveal-for"));
      reveals[i].hidden = Boolean(option) && !option.checked;
    }
  }
  for (var i = 0; i < reveals.length; i++) {
    var option = document.getElementById(reveals[i].getAttribute("data-reveal-for"));
    if (option) {
      var others = document.getElementsByName(option.name);
      for (var j = 0; j < others.length; j++) {
        others[j].addEventListener("change", updateReveals);
      }
    }
  }
  updateReveals();
})();
