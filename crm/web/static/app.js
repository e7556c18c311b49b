// Small behaviours that need no framework: confirmation before destructive actions, focus on form errors,
// copy buttons, closing the phone menu, and the validation page's comment boxes and folded domains.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // After a failed submit the errors are at the top of the form while the view is still at its button:
  // move focus to the error summary (or else the first invalid field) and bring it into view.
  function showErrors(root) {
    var target = root.querySelector(".form-error") || root.querySelector("[aria-invalid=true]");
    if (!target) {
      return false;
    }
    if (!target.matches("input, select, textarea, button, a[href]") && !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    var calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center", behavior: calm ? "auto" : "smooth" });
    return true;
  }

  // Field messages that came back out of band (the import form swaps only its messages, so the chosen file
  // stays) are tied to their field here, by the templates' naming: <small id="NAME-error"> and #f-NAME.
  function markFields(form) {
    form.querySelectorAll("[id^='f-']").forEach(function (field) {
      var messageId = field.id.slice(2) + "-error";
      var message = document.getElementById(messageId);
      if (message && form.contains(message)) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", messageId);
      } else if (field.getAttribute("aria-describedby") === messageId) {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-describedby");
      }
    });
  }

  // The validation page's comment box says why the validated level differs from the self score: shown only
  // while a level is chosen. Without script it is always there; with an error in it, it stays.
  function showReviewComments(root) {
    root.querySelectorAll("select[data-review-comment]").forEach(function (select) {
      var field = document.getElementById(select.dataset.reviewComment);
      if (field) {
        field.hidden = select.value === "" && !field.querySelector("[aria-invalid=true]");
      }
    });
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.dataset.reviewComment) {
      showReviewComments(select.form || document);
    }
  });

  // A link to something folded away in a closed <details> (a domain of the validation page) unfolds it.
  function openAroundTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    var unfolded = false;
    for (var node = target; node; node = node.parentElement) {
      if (node instanceof HTMLDetailsElement && !node.open) {
        node.open = true;
        unfolded = true;
      }
    }
    if (unfolded) {
      target.scrollIntoView();
    }
  }

  window.addEventListener("hashchange", openAroundTarget);

  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("main");
    showReviewComments(document);
    if (window.location.hash) {
      openAroundTarget();
    }
    if (main) {
      showErrors(main);
    }
    document.querySelectorAll("[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    showReviewComments(document);
    var source = detail.elt || (detail.requestConfig && detail.requestConfig.elt);
    var form = source instanceof Element ? source.closest("form") : null;
    if (form && !document.contains(form)) {
      form = null;  // the form itself was replaced: its new copy is inside the target
    }
    if (form) {
      markFields(form);
    }
    var target = detail.target;
    if (target instanceof Element && !document.contains(target) && target.id) {
      target = document.getElementById(target.id);  // an outerHTML swap: its new copy holds the messages
    }
    if (!(target instanceof Element && showErrors(target)) && form) {
      showErrors(form);
    }
  });

  // Copy buttons: <button data-copy="id-of-text" data-copy-status="id-of-live-region" data-copied="…"
  // data-copy-failed="…">. Without the clipboard API (or permission), the text is selected for Ctrl+C.
  function announce(button, message) {
    var status = document.getElementById(button.dataset.copyStatus);
    if (!status) {
      return;
    }
    status.textContent = "";
    // A fresh text node, a moment later, so screen readers announce a second copy too.
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyBySelection(button, source) {
    selectText(source);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    announce(button, copied ? button.dataset.copied : button.dataset.copyFailed);
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        announce(button, button.dataset.copied);
      }, function () {
        copyBySelection(button, source);
      });
    } else {
      copyBySelection(button, source);
    }
  });

  // The phone menu is a <details>: Escape closes it (focus back on its summary), as does a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var menu = document.querySelector(".site-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  document.addEventListener("click", function (event) {
    var menu = document.querySelector(".site-menu[open]");
    if (menu && event.target instanceof Node && !menu.contains(event.target)) {
      menu.open = false;
    }
  });
})();
