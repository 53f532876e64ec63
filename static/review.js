/* Mockup Studio: pinning a comment to a region of an image. "Mark a region" turns the image into a
   drawing surface; dragging a box on it (mouse, pen or touch, through Pointer Events) shows the box over
   the image and fills the comment form's hidden x, y, width and height with the box in the image's own
   pixels, which is what the server stores. Without JavaScript a comment is simply not pinned. */
(function () {
  "use strict";

  var MIN_SIZE = 2; // a click is not a box

  function ReviewBox(stage, form) {
    var svg = stage.querySelector(".review-boxes");
    var box = svg.querySelector("[data-new-box]");
    var drawButton = form.querySelector("[data-draw-box]");
    var clearButton = form.querySelector("[data-clear-box]");
    var hint = form.querySelector("[data-box-hint]");
    var width = Number(stage.dataset.width);
    var height = Number(stage.dataset.height);
    var inputs = {};
    var start = null;

    form.querySelectorAll("[data-region]").forEach(function (input) {
      inputs[input.dataset.region] = input;
    });

    /* Pointer position in the image's pixels, clamped to the image, whatever size it is shown at. */
    function toImage(event) {
      var rect = svg.getBoundingClientRect();
      var x = ((event.clientX - rect.left) * width) / rect.width;
      var y = ((event.clientY - rect.top) * height) / rect.height;
      return { x: Math.max(0, Math.min(width, x)), y: Math.max(0, Math.min(height, y)) };
    }

    function region(from, to) {
      var x = Math.floor(Math.min(from.x, to.x));
      var y = Math.floor(Math.min(from.y, to.y));
      return {
        x: x,
        y: y,
        width: Math.min(width - x, Math.ceil(Math.max(from.x, to.x)) - x),
        height: Math.min(height - y, Math.ceil(Math.max(from.y, to.y)) - y),
      };
    }

    function show(area) {
      ["x", "y", "width", "height"].forEach(function (key) {
        box.setAttribute(key, String(area ? area[key] : 0));
      });
      box.setAttribute("visibility", area ? "visible" : "hidden");
    }

    function keep(area) {
      ["x", "y", "width", "height"].forEach(function (key) {
        inputs[key].value = area ? String(area[key]) : "";
      });
      clearButton.hidden = !area;
    }

    function setDrawing(on) {
      stage.classList.toggle("is-drawing", on);
      drawButton.setAttribute("aria-pressed", on ? "true" : "false");
      hint.hidden = !on;
    }

    drawButton.addEventListener("click", function () {
      var on = !stage.classList.contains("is-drawing");
      setDrawing(on);
      if (on) {
        stage.scrollIntoView({ block: "nearest" }); // the form is below the image: bring the image back
      }
    });
    clearButton.addEventListener("click", function () {
      show(null);
      keep(null);
    });

    svg.addEventListener("pointerdown", function (event) {
      if (!stage.classList.contains("is-drawing")) {
        return;
      }
      event.preventDefault();
      svg.setPointerCapture(event.pointerId);
      start = toImage(event);
      show(region(start, start));
    });
    svg.addEventListener("pointermove", function (event) {
      if (start) {
        show(region(start, toImage(event)));
      }
    });
    function finish(event) {
      if (!start) {
        return;
      }
      var area = region(start, toImage(event));
      start = null;
      if (area.width < MIN_SIZE || area.height < MIN_SIZE) {
        show(null);
        keep(null);
        return;
      }
      show(area);
      keep(area);
      setDrawing(false);
      form.querySelector("textarea").focus();
    }
    svg.addEventListener("pointerup", finish);
    svg.addEventListener("pointercancel", function () {
      start = null;
      show(null);
    });

    drawButton.hidden = false;
    if (inputs.width.value) {
      // The page came back with an error: show the box the user had drawn.
      var kept = {};
      ["x", "y", "width", "height"].forEach(function (key) {
        kept[key] = Number(inputs[key].value);
      });
      show(kept);
      keep(kept);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var stage = document.querySelector("[data-review-stage]");
    var form = document.querySelector("[data-comment-form]");
    if (stage && form) {
      ReviewBox(stage, form);
    }
  });
})();
