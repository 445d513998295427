// Switchboard UI behaviour. Loaded with `defer` after htmx.
//
// The server's CSP forbids inline scripts and inline event handlers, so the few
// behaviours the pages need are wired here through delegated listeners on
// document. Keep this file small: anything that can be done with plain forms or
// htmx attributes should be.
//
//   - CSRF: every htmx request carries X-CSRF-Token from <meta name="csrf-token">.
//   - data-copy: a click copies text to the clipboard. If the value starts with
//     "#" and names an element, that element's value/text is copied; otherwise
//     the attribute value itself is copied.
//   - data-confirm: on a <form> (or its submit button), asks before submitting.
//     For htmx requests triggered by other elements, use hx-confirm instead
//     (it needs no eval).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token) {
      evt.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // Capture phase, so a cancelled submit never reaches htmx's own listener on
  // the form (hx-post forms) nor the browser's default submission.
  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!(form instanceof HTMLFormElement)) {
        return;
      }
      var submitter = evt.submitter;
      var message =
        (submitter && submitter.getAttribute("data-confirm")) ||
        form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        evt.preventDefault();
        evt.stopImmediatePropagation();
      }
    },
    true
  );

  function copyText(el) {
    var spec = el.getAttribute("data-copy") || "";
    if (spec.charAt(0) === "#") {
      var target = null;
      try {
        target = document.querySelector(spec);
      } catch (e) {
        target = null;
      }
      if (target) {
        return "value" in target && typeof target.value === "string"
          ? target.value
          : target.textContent || "";
      }
    }
    return spec;
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function flag(el, cls) {
    el.classList.remove("is-copied", "is-copy-failed");
    el.classList.add(cls);
    window.setTimeout(function () {
      el.classList.remove(cls);
    }, 1500);
  }

  document.addEventListener("click", function (evt) {
    var el = evt.target instanceof Element ? evt.target.closest("[data-copy]") : null;
    if (!el) {
      return;
    }
    evt.preventDefault();
    var text = copyText(el);
    var done =
      navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(text)
        : fallbackCopy(text);
    done.then(
      function () {
        flag(el, "is-copied");
      },
      function () {
        flag(el, "is-copy-failed");
      }
    );
  });
})();
