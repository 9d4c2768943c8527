// Portal behaviour kept out of the pages (the Content-Security-Policy forbids inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  // Buttons with data-confirm ask before their form is sent. With data-confirm-choice (the
  // name of a select of the form), "{choice}" in the question is the option chosen; with none
  // chosen yet there is nothing to confirm: the form goes and the portal says what is missing.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      let question = el.dataset.confirm;
      if (el.dataset.confirmChoice) {
        const choice = el.form && el.form.elements[el.dataset.confirmChoice];
        if (!choice || !choice.value) return;
        question = question.replace("{choice}", choice.options[choice.selectedIndex].text);
      }
      if (!window.confirm(question)) event.preventDefault();
    });
  });
});
