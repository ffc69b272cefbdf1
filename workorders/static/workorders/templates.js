// The console's response templates: choosing one fills the public-note box of the form it
// goes with. Without this script the select's own form (GET ?template=) does the same.
(function () {
  "use strict";
  var select = document.getElementById("response-template");
  if (!select) return;
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var action = option.getAttribute("data-form-action");
    if (!action) return;
    var forms = document.querySelectorAll("form[action]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") !== action) continue;
      var box = forms[i].elements[option.getAttribute("data-field")];
      if (box) box.value = option.getAttribute("data-text");
    }
  });
})();
