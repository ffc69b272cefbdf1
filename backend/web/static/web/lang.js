// The language switch changes as soon as a language is chosen (the button stays for no-JS).
(function () {
  "use strict";
  var select = document.getElementById("language");
  if (!select) return;
  var button = select.form.querySelector("button");
  if (button) button.classList.add("visually-hidden");
  select.addEventListener("change", function () { select.form.submit(); });
})();
