/*
 * On the way to an identity provider: submit the SAML form, or follow the link, at once. Without
 * JavaScript the page's Continue button (or the meta refresh) does the same.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
    return;
  }
  var link = document.querySelector("a[data-autoredirect]");
  if (link) {
    window.location.replace(link.href);
  }
})();
