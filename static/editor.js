/* Mockup Studio: the region editor on an image's page. The user marks the part to change with a brush
   or a box on a canvas laid over the image (mouse, pen and touch alike, through Pointer Events), and
   the form is sent with that mark as a PNG mask at the image's natural size: white = edit, black = keep.
   The marks are kept as a list of operations, so Undo drops the last one and everything is redrawn. */
(function () {
  "use strict";

  var MARK_COLOUR = "#ff00ff"; // the same magenta the model is shown (mockup/imaging/regions.py)

  function RegionEditor(form) {
    var canvas = form.querySelector(".region-stage canvas");
    var context = canvas.getContext("2d");
    var sizeInput = form.querySelector("[data-brush-size]");
    var maskInput = form.querySelector("[data-mask-input]");
    var maskError = form.querySelector("[data-mask-error]");
    var marks = [];
    var drawing = null;
    var tool = "brush";
    var frame = 0;

    /* Pointer position in the image's own pixels, whatever size the canvas is shown at. */
    function toImage(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height,
      };
    }

    function paint(target, colour, mark) {
      target.fillStyle = colour;
      target.strokeStyle = colour;
      if (mark.tool === "box") {
        var x = Math.min(mark.from.x, mark.to.x);
        var y = Math.min(mark.from.y, mark.to.y);
        target.fillRect(x, y, Math.abs(mark.to.x - mark.from.x), Math.abs(mark.to.y - mark.from.y));
        return;
      }
      var points = mark.points;
      target.lineWidth = mark.size;
      target.lineCap = "round";
      target.lineJoin = "round";
      target.beginPath();
      if (points.length === 1) {
        target.arc(points[0].x, points[0].y, mark.size / 2, 0, 2 * Math.PI);
        target.fill();
        return;
      }
      target.moveTo(points[0].x, points[0].y);
      points.slice(1).forEach(function (point) {
        target.lineTo(point.x, point.y);
      });
      target.stroke();
    }

    /* Opaque marks on a canvas shown half transparent (CSS), so overlapping strokes look the same. */
    function redraw() {
      frame = 0;
      context.clearRect(0, 0, canvas.width, canvas.height);
      marks.forEach(function (mark) {
        paint(context, MARK_COLOUR, mark);
      });
      form.querySelector("[data-action=undo]").disabled = marks.length === 0;
      form.querySelector("[data-action=clear]").disabled = marks.length === 0;
    }

    function scheduleRedraw() {
      if (!frame) {
        frame = window.requestAnimationFrame(redraw);
      }
    }

    function isEmpty(mark) {
      return mark.tool === "box" && (Math.abs(mark.to.x - mark.from.x) < 1 || Math.abs(mark.to.y - mark.from.y) < 1);
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" && event.button !== 0) {
        return;
      }
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      var point = toImage(event);
      // The brush size is chosen in screen pixels, where the user sees it, and kept in image pixels.
      var scale = canvas.width / canvas.getBoundingClientRect().width;
      drawing = tool === "box"
        ? { tool: "box", from: point, to: point }
        : { tool: "brush", size: Number(sizeInput.value) * scale, points: [point] };
      marks.push(drawing);
      maskError.hidden = true;
      scheduleRedraw();
    });

    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      if (drawing.tool === "box") {
        drawing.to = toImage(event);
      } else {
        drawing.points.push(toImage(event));
      }
      scheduleRedraw();
    });

    function finish() {
      if (drawing && isEmpty(drawing)) {
        marks.pop();
      }
      drawing = null;
      scheduleRedraw();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-tool], button[data-action]");
      if (!button) {
        return;
      }
      if (button.hasAttribute("data-tool")) {
        tool = button.getAttribute("data-tool");
        form.querySelectorAll("[data-tool]").forEach(function (other) {
          other.setAttribute("aria-pressed", String(other === button));
        });
        form.classList.toggle("is-box", tool === "box");
      } else if (button.getAttribute("data-action") === "undo") {
        marks.pop();
      } else {
        marks = [];
      }
      scheduleRedraw();
    });

    /* White marks on black at the image's natural size: the mask the server expects. */
    function maskBlob(done) {
      var mask = document.createElement("canvas");
      mask.width = canvas.width;
      mask.height = canvas.height;
      var target = mask.getContext("2d");
      target.fillStyle = "#000";
      target.fillRect(0, 0, mask.width, mask.height);
      marks.forEach(function (mark) {
        paint(target, "#fff", mark);
      });
      mask.toBlob(done, "image/png");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!marks.length) {
        maskError.textContent = form.getAttribute("data-empty-message");
        maskError.hidden = false;
        return;
      }
      var submit = form.querySelector("[type=submit]");
      submit.disabled = true;
      maskBlob(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], "mask.png", { type: "image/png" }));
        maskInput.files = files.files;
        form.submit(); // a normal submission: the server answers with the new edit's page
      });
    });

    window.addEventListener("pageshow", function () {
      form.querySelector("[type=submit]").disabled = false;
    });

    form.hidden = false;
    redraw();
  }

  document.querySelectorAll("form[data-region-editor]").forEach(RegionEditor);
})();
