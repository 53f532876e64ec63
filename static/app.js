/* Mockup Studio: small progressive enhancements. Every page also works without this file: a reload
   shows a job's current state, forms submit normally, and nothing here is needed to use the app. */
(function () {
  "use strict";

  var POLL_MS = 2500;
  var PREPARE_POLL_MS = 1500;

  document.documentElement.classList.add("js");

  /* A generation's status fragment fetches itself again until the job has finished
     (data-finished="true"), so queued -> running -> candidates happens without a reload. */
  function followStatus(fragment) {
    var url = fragment.getAttribute("data-status-url");

    function schedule(delay) {
      window.setTimeout(refresh, delay);
    }

    function refresh() {
      if (document.hidden) {
        schedule(POLL_MS);
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          // Signed out (redirected to the login page) or the generation is gone: stop asking.
          if (response.redirected || (response.status >= 400 && response.status < 500)) {
            return null;
          }
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          if (html === null) {
            return;
          }
          var next = new DOMParser().parseFromString(html, "text/html").getElementById(fragment.id);
          if (!next) {
            return;
          }
          fragment.replaceWith(next);
          fragment = next;
          if (next.getAttribute("data-finished") !== "true") {
            schedule(POLL_MS);
          }
        })
        .catch(function () {
          schedule(POLL_MS * 4); // the server restarts or the network blinks: try again, more slowly
        });
    }

    schedule(POLL_MS);
  }

  /* Forms with data-confirm ask before they submit (deleting things). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    rememberSentToken(form);
    // One click, one job: a second click while the upload is on its way would queue a second mockup.
    if (form.hasAttribute("data-submit-once")) {
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    }
  });

  /* A form's one-time token (input[name=submission]) names the job it made, so sending it again opens
     that job. When Back loads the form anew instead of restoring it from the back/forward cache, the
     page has a fresh token: the tab's last sent token for this form is put back, so the same form sent
     again still opens the first job. A form reached any other way keeps its fresh token. */
  var SENT_TOKEN = "mockup:sent-token:";

  function rememberSentToken(form) {
    var token = form.querySelector("input[name=submission]");
    try {
      if (token) {
        window.sessionStorage.setItem(SENT_TOKEN + form.action, token.value);
      }
    } catch (error) { /* storage refused (private mode): the server still dedupes a restored page */ }
  }

  function restoreSentTokens() {
    var navigation = window.performance && performance.getEntriesByType &&
      performance.getEntriesByType("navigation")[0];
    if (!navigation || navigation.type !== "back_forward") {
      return;
    }
    document.querySelectorAll("form input[name=submission]").forEach(function (token) {
      try {
        var sent = window.sessionStorage.getItem(SENT_TOKEN + token.form.action);
        if (sent) {
          token.value = sent;
        }
      } catch (error) { /* as above */ }
    });
  }

  restoreSentTokens();

  /* Buttons disabled above come back when the browser restores the page from its back/forward cache. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-once] [type=submit]").forEach(function (button) {
      button.disabled = false;
    });
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    // The footer's language menu applies the choice at once.
    if (input.hasAttribute("data-autosubmit")) {
      input.form.submit();
    }
    // Show the chosen image inside its drop zone.
    if (input.hasAttribute("data-preview")) {
      showPreview(input);
    }
    judgeField(input);
  });

  /* A field's messages are about what it held when the page was made: once the input is valid they
     go (a file of an accepted type chosen, a choice made, text typed), so no stale "Choose an image
     file." stays under a good file. A file of another type gets the server's sentence at once. */
  document.addEventListener("input", function (event) {
    if (event.target.type !== "file") {
      judgeField(event.target);
    }
  });

  function judgeField(input) {
    var field = input.closest && input.closest(".field");
    if (!field || !input.form) {
      return;
    }
    var problem = input.type === "file" ? fileProblem(input) : (input.checkValidity() ? null : input.validationMessage);
    field.querySelectorAll(".field-error").forEach(function (message) { message.remove(); });
    field.classList.toggle("has-error", Boolean(problem));
    if (problem) {
      input.setAttribute("aria-invalid", "true");
      var message = document.createElement("p");
      message.className = "field-error";
      message.setAttribute("role", "alert");
      message.textContent = problem;
      field.appendChild(message);
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  function fileProblem(input) {
    var file = input.files && input.files[0];
    var accepted = (input.getAttribute("accept") || "").split(",");
    if (file && accepted.indexOf(file.type) < 0) {
      return input.getAttribute("data-type-error");
    }
    return null;
  }

  function showPreview(input) {
    var zone = input.closest(".dropzone");
    var preview = zone && zone.querySelector(".dropzone-preview");
    var text = zone && zone.querySelector(".dropzone-text");
    if (!preview) {
      return;
    }
    var file = input.files && input.files[0];
    if (preview.src.indexOf("blob:") === 0) {
      URL.revokeObjectURL(preview.src);
    }
    preview.removeAttribute("src");
    if (file) {
      preview.hidden = false;
      preview.src = URL.createObjectURL(file);
      if (text) {
        text.textContent = file.name;
      }
      // A kept upload is replaced by the file chosen now (views/kept.py: a chosen file wins).
      zone.classList.remove("is-kept");
    } else if (preview.hasAttribute("data-kept-src")) {
      // The choice was withdrawn: the kept upload is what the form sends again.
      zone.classList.add("is-kept");
      preview.src = preview.getAttribute("data-kept-src");
    } else {
      preview.hidden = true;
    }
  }

  /* Before/after comparisons: the range input over the picture moves the divider (the "after" image is
     clipped to the right of it). Delegated, so comparisons that arrive with a status update work too. */
  document.addEventListener("input", function (event) {
    var range = event.target;
    if (range.classList.contains("compare-range")) {
      range.closest(".compare").style.setProperty("--split", range.value + "%");
    }
  });

  /* A row of candidate buttons chooses which candidate the comparison shows as "after". */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-compare-src]");
    if (!button) {
      return;
    }
    var block = button.closest(".compare-block");
    block.querySelector(".compare-after").src = button.getAttribute("data-compare-src");
    block.querySelectorAll("[data-compare-src]").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === button));
    });
  });

  /* 2K and transparent downloads are made by a background job the first time: the link polls the
     download route's status fragment (?check=1, templates/images/_download_status.html), shows progress
     in its own label, and downloads when the file is ready. */
  function prepare(link, label) {
    var check = link.href + (link.href.indexOf("?") < 0 ? "?" : "&") + "check=1";
    fetch(check, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var result = new DOMParser().parseFromString(html, "text/html").getElementById("download-status");
        var status = result ? result.getAttribute("data-status") : null;
        if (status === "ready") {
          link.textContent = label;
          link.removeAttribute("aria-busy");
          window.location.href = link.href;
        } else if (status === "failed") {
          link.textContent = label;
          link.removeAttribute("aria-busy");
          var note = document.createElement("span");
          note.className = "download-error";
          note.setAttribute("role", "alert");
          note.textContent = result.textContent;
          link.after(note);
        } else if (status === "processing") {
          setTimeout(function () { prepare(link, label); }, PREPARE_POLL_MS);
        } else {
          window.location.href = link.href; // signed out or an error page: let the browser show it
        }
      })
      .catch(function () { window.location.href = link.href; });
  }

  /* The link matching `selector` of a plain click (not a new tab, not a link already at work), which
     this script takes over: marked busy until its work is done. Null for any other click. */
  function takeOver(event, selector) {
    var link = event.target.closest(selector);
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) {
      return null;
    }
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") {
      return null;
    }
    link.setAttribute("aria-busy", "true");
    return link;
  }

  document.addEventListener("click", function (event) {
    var link = takeOver(event, "a[data-prepare]");
    if (!link) {
      return;
    }
    var label = link.textContent;
    link.textContent = link.getAttribute("data-preparing");
    prepare(link, label);
  });

  /* "Load more" under a paged list: the next page is fetched and its items appended to the list, and
     its own "load more" link (or none, on the last page) replaces this one. Any trouble: just open it. */
  document.addEventListener("click", function (event) {
    var link = takeOver(event, "a[data-load-more]");
    if (!link) {
      return;
    }
    var id = link.getAttribute("data-load-more");
    fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var items = next.getElementById(id);
        var list = document.getElementById(id);
        if (!items || !list) {
          throw new Error("no list " + id);
        }
        Array.prototype.slice.call(items.children).forEach(function (item) { list.appendChild(item); });
        var more = next.getElementById(id + "-more");
        var mine = document.getElementById(id + "-more");
        if (more) {
          mine.replaceWith(more);
        } else {
          mine.remove();
        }
      })
      .catch(function () { window.location.href = link.href; });
  });

  document.querySelectorAll("[data-status-url]").forEach(function (fragment) {
    if (fragment.getAttribute("data-finished") !== "true") {
      followStatus(fragment);
    }
  });
})();
