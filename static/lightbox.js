/* Mockup Studio: the image viewer. Any [data-lightbox] element opens its image full screen, fitted;
   a [data-ab] group's [data-ab-open] button opens its two checked [data-ab-src] boxes side by side.
   Zoom: the buttons, + - 0 (fit) 1 (100 %), the wheel, a pinch or a double click. Pan: drag or the
   arrow keys. Both panes of an A/B view always share one zoom and one pan, so the same spot of both
   images is in view. Escape (the dialog's own) closes and gives focus back to what opened it.
   Without JavaScript the [data-lightbox] links still open the image file itself. */
(function () {
  "use strict";

  var ZOOM_STEP = 1.25;
  var MAX_SCALE = 8;
  var PAN_STEP = 0.1; // an arrow key pans by this share of the pane, Shift by three times as much
  var WHEEL_RATE = 0.002;

  /* A viewer's state: `scale` is CSS px per natural px of the first image (so 1 is its 100 %); every
     pane shows its image at the first image's displayed width, shifted by the same tx/ty from the
     pane's centre. */
  function Viewer(items, opener) {
    var template = document.getElementById("lightbox-template");
    this.dialog = template.content.firstElementChild.cloneNode(true);
    this.panes = this.dialog.querySelector("[data-panes]");
    this.level = this.dialog.querySelector("[data-level]");
    this.opener = opener;
    this.images = items.map(this.addPane, this);
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.fitted = true;
    this.pointers = new Map();
    this.bind();
    document.body.appendChild(this.dialog);
    this.dialog.showModal();
    this.dialog.querySelector("[data-zoom=fit]").focus();
    var viewer = this;
    Promise.all(this.images.map(function (img) {
      return img.decode().catch(function () {}); // a broken image still opens the viewer
    })).then(function () {
      viewer.dialog.classList.add("is-ready");
      viewer.fit();
    });
  }

  Viewer.prototype.addPane = function (item) {
    var pane = document.createElement("figure");
    pane.className = "lightbox-pane";
    var img = document.createElement("img");
    img.draggable = false;
    img.alt = item.label;
    img.src = item.src;
    if (item.checker) {
      img.classList.add("checker");
    }
    pane.appendChild(img);
    if (item.label) {
      var caption = document.createElement("figcaption");
      caption.textContent = item.label;
      pane.appendChild(caption);
    }
    this.panes.appendChild(pane);
    return img;
  };

  Viewer.prototype.bind = function () {
    var viewer = this;
    this.dialog.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) {
        return;
      }
      if (button.hasAttribute("data-close")) {
        viewer.dialog.close();
      } else if (button.dataset.zoom === "in") {
        viewer.zoomBy(ZOOM_STEP);
      } else if (button.dataset.zoom === "out") {
        viewer.zoomBy(1 / ZOOM_STEP);
      } else if (button.dataset.zoom === "fit") {
        viewer.fit();
      } else if (button.dataset.zoom === "actual") {
        viewer.zoomTo(1);
      }
    });
    this.dialog.addEventListener("keydown", function (event) {
      viewer.key(event);
    });
    this.dialog.addEventListener("close", function () {
      window.removeEventListener("resize", onResize);
      viewer.dialog.remove();
      if (viewer.opener && viewer.opener.isConnected) {
        viewer.opener.focus();
      }
    });
    this.panes.addEventListener("pointerdown", function (event) {
      viewer.pointerDown(event);
    });
    this.panes.addEventListener("pointermove", function (event) {
      viewer.pointerMove(event);
    });
    ["pointerup", "pointercancel"].forEach(function (type) {
      viewer.panes.addEventListener(type, function (event) {
        viewer.pointers.delete(event.pointerId);
        viewer.panes.classList.toggle("is-dragging", viewer.pointers.size > 0);
      });
    });
    this.panes.addEventListener("wheel", function (event) {
      event.preventDefault();
      viewer.zoomBy(Math.exp(-event.deltaY * WHEEL_RATE), viewer.fromCentre(event));
    }, { passive: false });
    this.panes.addEventListener("dblclick", function (event) {
      if (viewer.scale < 1) {
        viewer.zoomTo(1, viewer.fromCentre(event));
      } else {
        viewer.fit();
      }
    });
    function onResize() {
      if (viewer.fitted) {
        viewer.fit();
      } else {
        viewer.render();
      }
    }
    window.addEventListener("resize", onResize);
  };

  Viewer.prototype.key = function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var pane = this.paneSize();
    var step = (event.shiftKey ? 3 : 1) * PAN_STEP;
    var moves = {
      ArrowLeft: [pane.width * step, 0], ArrowRight: [-pane.width * step, 0],
      ArrowUp: [0, pane.height * step], ArrowDown: [0, -pane.height * step],
    };
    if (moves[event.key]) {
      this.panBy(moves[event.key][0], moves[event.key][1]);
    } else if (event.key === "+" || event.key === "=") {
      this.zoomBy(ZOOM_STEP);
    } else if (event.key === "-" || event.key === "_") {
      this.zoomBy(1 / ZOOM_STEP);
    } else if (event.key === "0") {
      this.fit();
    } else if (event.key === "1") {
      this.zoomTo(1);
    } else {
      return;
    }
    event.preventDefault();
  };

  /* Pointer Events cover the mouse, a pen and fingers alike: one pointer drags, two pinch. */
  Viewer.prototype.pointerDown = function (event) {
    if (event.button !== 0) {
      return;
    }
    this.panes.setPointerCapture(event.pointerId);
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    this.panes.classList.add("is-dragging");
  };

  Viewer.prototype.pointerMove = function (event) {
    var last = this.pointers.get(event.pointerId);
    if (!last) {
      return;
    }
    var now = { x: event.clientX, y: event.clientY };
    if (this.pointers.size === 2) {
      var other = null;
      this.pointers.forEach(function (point, id) {
        if (id !== event.pointerId) {
          other = point;
        }
      });
      var before = Math.hypot(last.x - other.x, last.y - other.y);
      var after = Math.hypot(now.x - other.x, now.y - other.y);
      var middle = { clientX: (now.x + other.x) / 2, clientY: (now.y + other.y) / 2, target: event.target };
      this.panBy((now.x - last.x) / 2, (now.y - last.y) / 2);
      if (before > 0) {
        this.zoomBy(after / before, this.fromCentre(middle));
      }
    } else {
      this.panBy(now.x - last.x, now.y - last.y);
    }
    this.pointers.set(event.pointerId, now);
  };

  /* A pointer's position relative to the centre of the pane it is over: the point a zoom keeps still. */
  Viewer.prototype.fromCentre = function (event) {
    var pane = (event.target.closest && event.target.closest(".lightbox-pane")) || this.panes.firstElementChild;
    var box = pane.getBoundingClientRect();
    return { x: event.clientX - box.left - box.width / 2, y: event.clientY - box.top - box.height / 2 };
  };

  Viewer.prototype.paneSize = function () {
    var box = this.panes.firstElementChild.getBoundingClientRect();
    return { width: box.width, height: box.height };
  };

  /* The largest scale at which every image fits its pane, never above 100 %. */
  Viewer.prototype.fitScale = function () {
    var pane = this.paneSize();
    var width = this.images[0].naturalWidth || 1;
    return this.images.reduce(function (scale, img) {
      var ratio = (img.naturalHeight || 1) / (img.naturalWidth || 1);
      return Math.min(scale, pane.width / width, pane.height / (width * ratio));
    }, 1);
  };

  Viewer.prototype.fit = function () {
    this.scale = this.fitScale();
    this.tx = 0;
    this.ty = 0;
    this.fitted = true;
    this.render();
  };

  Viewer.prototype.zoomTo = function (scale, at) {
    var point = at || { x: 0, y: 0 };
    var next = Math.min(MAX_SCALE, Math.max(Math.min(this.fitScale(), 1), scale));
    // Keep the image point under `point` where it is.
    this.tx = point.x - (point.x - this.tx) * (next / this.scale);
    this.ty = point.y - (point.y - this.ty) * (next / this.scale);
    this.scale = next;
    this.fitted = false;
    this.render();
  };

  Viewer.prototype.zoomBy = function (factor, at) {
    this.zoomTo(this.scale * factor, at);
  };

  Viewer.prototype.panBy = function (dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.fitted = false;
    this.render();
  };

  /* Clamp the pan so that an image larger than its pane always covers it, and a smaller one stays
     centred; then size and place every image. */
  Viewer.prototype.render = function () {
    var pane = this.paneSize();
    var width = (this.images[0].naturalWidth || 1) * this.scale;
    var height = this.images.reduce(function (tallest, img) {
      return Math.max(tallest, width * (img.naturalHeight || 1) / (img.naturalWidth || 1));
    }, 0);
    var spareX = Math.max(0, (width - pane.width) / 2);
    var spareY = Math.max(0, (height - pane.height) / 2);
    this.tx = Math.min(spareX, Math.max(-spareX, this.tx));
    this.ty = Math.min(spareY, Math.max(-spareY, this.ty));
    var viewer = this;
    this.images.forEach(function (img) {
      img.style.width = width + "px";
      img.style.height = width * (img.naturalHeight || 1) / (img.naturalWidth || 1) + "px";
      img.style.transform = "translate(-50%, -50%) translate(" + viewer.tx + "px, " + viewer.ty + "px)";
    });
    this.level.textContent = Math.round(this.scale * 100) + "%";
    this.dialog.querySelector("[data-zoom=actual]").setAttribute("aria-pressed", String(Math.abs(this.scale - 1) < 1e-6));
  };

  function itemOf(element, prefix) {
    return {
      src: element.getAttribute("data-" + prefix),
      label: element.getAttribute("data-" + prefix + "-label") || "",
      checker: element.hasAttribute("data-" + prefix + "-checker"),
    };
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return; // a modified click on a link still opens the file in a new tab
    }
    var opener = event.target.closest("[data-lightbox]");
    if (opener) {
      event.preventDefault();
      new Viewer([itemOf(opener, "lightbox")], opener);
      return;
    }
    var ab = event.target.closest("[data-ab-open]");
    if (ab) {
      var chosen = [].slice.call(ab.closest("[data-ab]").querySelectorAll("[data-ab-src]:checked"));
      if (chosen.length === 2) {
        new Viewer(chosen.map(function (box) { return itemOf(box, "ab-src"); }), ab);
      }
    }
  });

  /* An A/B group compares exactly two: checking a third unchecks the one checked longest ago (boxes
     checked by the page count as the oldest), and the open button is only enabled with two. */
  var picks = 0;

  function syncGroup(group) {
    var open = group.querySelector("[data-ab-open]");
    if (open) {
      open.disabled = group.querySelectorAll("[data-ab-src]:checked").length !== 2;
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-ab-src")) {
      return;
    }
    var group = box.closest("[data-ab]");
    if (box.checked) {
      picks += 1;
      box.setAttribute("data-ab-pick", String(picks));
      var checked = [].slice.call(group.querySelectorAll("[data-ab-src]:checked"));
      if (checked.length > 2) {
        checked.sort(function (a, b) {
          return Number(a.getAttribute("data-ab-pick") || 0) - Number(b.getAttribute("data-ab-pick") || 0);
        });
        checked[0].checked = false;
      }
    }
    syncGroup(group);
  });

  // The browser may restore the boxes' state on Back: the buttons follow what is checked now.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("[data-ab]").forEach(syncGroup);
  });
})();
