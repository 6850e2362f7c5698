/* Progressive enhancement shared by every page. Nothing here is needed for a page to work. */
(function () {
  "use strict";
  // GOV.UK's error summary pattern: after a failed submit, move focus to the list of errors so
  // that a screen reader announces them and keyboard users start there.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
