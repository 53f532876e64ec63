// The generate form's estimated cost, recomputed as the options change (the server renders the
// default; the rates come from mockup/engines/pricing.py through data attributes, so nothing is inline).
(function () {
  "use strict";

  function chosenFile(form, name) {
    var input = form.elements[name];
    return Boolean(input && input.files && input.files.length);
  }

  // A registered character sends every picture of its sheet; one uploaded for the run is one picture.
  function characterImages(form, box) {
    if (chosenFile(form, "character_image")) return 1;
    var character = form.elements.character_id;
    if (!character || !character.value) return 0;
    var sheets = JSON.parse(box.dataset.characterImages || "{}");
    return sheets[character.value] || 1;
  }

  function inputImages(form, box) {
    var mode = form.querySelector("input[name=mode]:checked");
    var count = 1;
    if (mode && mode.value === "ip-change") count += characterImages(form, box);
    if (chosenFile(form, "texture_image")) count += 1;
    return count;
  }

  function candidates(form, box) {
    var field = form.elements.candidates;
    var value = field ? parseInt(field.value, 10) : NaN;
    return isNaN(value) ? parseInt(box.dataset.candidates, 10) : value;
  }

  function update(form, box) {
    var perCall = parseFloat(box.dataset.perCall) + inputImages(form, box) * parseFloat(box.dataset.perInputImage);
    box.querySelector("[data-cost-value]").textContent = (candidates(form, box) * perCall).toFixed(2);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-cost-estimate]");
    var form = box && box.closest("form");
    if (!form) return;
    form.addEventListener("change", function () { update(form, box); });
    update(form, box);
  });
})();
