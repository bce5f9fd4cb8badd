// mamori console: the only script. Forms marked data-confirm ask before they submit
// (rollback, 2FA reset). Everything else works without JavaScript.
"use strict";
document.addEventListener("submit", (e) => {
  const form = e.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
