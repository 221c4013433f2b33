/* Tandem's page behaviour, kept out of the templates so the Content-Security-Policy can
   forbid inline scripts and event handlers (script-src 'self'). Pages work without it:
   it only asks before irreversible steps and feeds htmx requests. */
(function () {
  "use strict";

  // <button data-confirm="Close RC-2026-0001? ...">: ask before the form is sent.
  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-confirm]");
    if (control && !window.confirm(control.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // <button data-copy="#feed-url">: copy the named field's value (and select it, so it
  // can be copied by hand where the clipboard is not available).
  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-copy]");
    if (!control) {
      return;
    }
    var field = document.querySelector(control.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () {
        control.textContent = "Copied";
      });
    }
  });

  // hx-get with data-params-from='{"sku": "#id_items-0-product"}': each parameter is the
  // current value of the element the selector names (what hx-vals="js:..." did, without
  // eval, which the policy forbids).
  document.addEventListener("htmx:configRequest", function (event) {
    var sources = event.detail.elt.getAttribute("data-params-from");
    if (!sources) {
      return;
    }
    var parameters = JSON.parse(sources);
    Object.keys(parameters).forEach(function (name) {
      var field = document.querySelector(parameters[name]);
      event.detail.parameters[name] = field ? field.value : "";
    });
  });
})();
