// Switchboard flow editor behaviour. Loaded with `defer` by the editor pages
// only, after htmx and app.js. The server's CSP forbids inline scripts and
// handlers, so everything here is a delegated listener keyed on classes and
// data-* attributes:
//
//   - Data picker: <details class="picker"> beside a field is filled, when
//     opened, from <template id="data-paths">; clicking an entry
//     (data-path) inserts {{ path }} at the cursor of the field named by
//     data-picker-for (just the path for expression fields,
//     data-picker-expr), then fires "input" so the field is validated.
//   - Escape or a click elsewhere closes an open picker.
//   - After htmx swaps the editor because a node or a "+" was activated
//     (data-focus-panel), focus moves to the panel (its title, or the
//     catalog's search box), so keyboard users land where the change is.
//   - A field's live message (answered by the validate endpoint) also sets
//     or clears the field's invalid look.
//   - A failed htmx request shows an error above the editor instead of
//     failing silently.
(function () {
  "use strict";

  function fillPicker(details) {
    var menu = details.querySelector(".picker__menu");
    var tpl = document.getElementById("data-paths");
    if (!menu || !tpl || menu.childElementCount > 0) {
      return;
    }
    menu.appendChild(tpl.content.cloneNode(true));
  }

  function closePickers(except) {
    document.querySelectorAll("details.picker[open], details.menu[open]").forEach(function (d) {
      if (d !== except) {
        d.open = false;
      }
    });
  }

  // "toggle" does not bubble: listen in the capture phase.
  document.addEventListener(
    "toggle",
    function (evt) {
      var d = evt.target;
      if (!(d instanceof HTMLDetailsElement) || !d.open) {
        return;
      }
      if (d.classList.contains("picker")) {
        fillPicker(d);
        closePickers(d);
        // Scroll the panel so the whole menu shows above its footer.
        var menu = d.querySelector(".picker__menu");
        if (menu && menu.scrollIntoView) {
          menu.scrollIntoView({ block: "nearest" });
        }
        var item = d.querySelector(".picker__item");
        if (item && d.matches(":focus-within")) {
          item.focus();
        }
      } else if (d.classList.contains("menu")) {
        closePickers(d);
        var input = d.querySelector("input:not([type=hidden])");
        if (input) {
          input.focus();
        }
      }
    },
    true
  );

  function insertAtCursor(field, text) {
    var start = typeof field.selectionStart === "number" ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === "number" ? field.selectionEnd : field.value.length;
    // A field that was never focused reports 0: append rather than prepend.
    if (document.activeElement !== field && start === 0 && end === 0 && field.value !== "") {
      start = end = field.value.length;
    }
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    var pos = start + text.length;
    field.focus();
    try {
      field.setSelectionRange(pos, pos);
    } catch (e) {
      // Some input types do not support selection; the value is set anyway.
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (evt) {
    var el = evt.target instanceof Element ? evt.target : null;
    if (!el) {
      return;
    }
    var item = el.closest(".picker__item[data-path]");
    if (item) {
      evt.preventDefault();
      var menu = item.closest(".picker__menu");
      var field = menu ? document.getElementById(menu.getAttribute("data-picker-for") || "") : null;
      if (field) {
        var path = item.getAttribute("data-path") || "";
        var expr = menu.hasAttribute("data-picker-expr");
        insertAtCursor(field, expr ? path : "{{ " + path + " }}");
      }
      var details = item.closest("details");
      if (details) {
        details.open = false;
      }
      return;
    }
    if (!el.closest("details.picker, details.menu")) {
      closePickers(null);
    }
  });

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") {
      return;
    }
    var open = document.querySelector("details.picker[open], details.menu[open]");
    if (open) {
      open.open = false;
      var summary = open.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    }
  });

  // A field's live message decides whether the field is drawn as invalid.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    var live = target && target.id ? document.getElementById(target.id) : null;
    if (!live || !live.classList.contains("field__live")) {
      return;
    }
    var field = live.closest(".field");
    if (field) {
      field.classList.toggle("field--invalid", !!live.querySelector(".field__error"));
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-focus-panel")) {
      return;
    }
    var target = document.getElementById("catalog-q") || document.getElementById("panel-title");
    if (target) {
      target.focus({ preventScroll: true });
    }
  });

  function showError(text) {
    var root = document.getElementById("flow-editor");
    if (!root) {
      return;
    }
    var box = document.getElementById("editor-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "editor-error";
      box.className = "alert alert--error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-testid", "editor-error");
      var header = root.querySelector(".editor-header");
      root.insertBefore(box, header ? header.nextSibling : root.firstChild);
    }
    box.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var text = "That did not work (HTTP " + status + ").";
    if (status === 403) {
      text = "The page expired or your role does not allow this; reload the page and try again.";
    } else if (status === 404) {
      text = "That no longer exists; reload the page.";
    } else if (status >= 500) {
      text = "Something went wrong on the server; try again, or reload the page.";
    }
    showError(text);
  });

  document.addEventListener("htmx:sendError", function () {
    showError("The server did not answer; check your connection and try again.");
  });
})();
