// Fills form fields marked data-prefill="<claim>" from the citizen's BundID login
// (GET /api/session). Only empty fields are filled, nothing is sent anywhere, and the
// form works the same without this script.
(function () {
  "use strict";
  var fields = document.querySelectorAll("[data-prefill]");
  if (!fields.length || !window.fetch) return;
  fetch("/api/session", { credentials: "same-origin", headers: { accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (session) {
      if (!session || !session.logged_in) return;
      var address = session.address || {};
      var claims = {
        given_name: session.given_name,
        family_name: session.family_name,
        name: [session.given_name, session.family_name].filter(Boolean).join(" "),
        email: session.email,
        street_address: address.street_address,
        postal_code: address.postal_code,
        locality: address.locality
      };
      Array.prototype.forEach.call(fields, function (field) {
        var value = claims[field.getAttribute("data-prefill")];
        if (value && !field.value) field.value = value;
      });
    })
    .catch(function () { /* no session, no prefill */ });
})();
