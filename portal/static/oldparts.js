// Old-part pages (the Content-Security-Policy forbids inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" ticks every enabled checkbox of its name.
  document.querySelectorAll("[data-select-all]").forEach((all) => {
    const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`);
    all.addEventListener("change", () => {
      boxes().forEach((box) => {
        if (!box.disabled) box.checked = all.checked;
      });
    });
  });
  // The scan box keeps the focus: a barcode scanner types the tag and presses Enter.
  const scan = document.querySelector("input[data-scan]");
  if (scan) {
    scan.focus();
    scan.select();
  }
});
