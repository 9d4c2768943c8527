// Portal behaviour kept out of the pages (the Content-Security-Policy forbids inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  // Buttons with data-confirm ask before their form is sent.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
});
