// The review page: while an auditor types the approved values, the approved amount of each line
// and the running approved total are shown, and a cut line is marked until it has a reason code.
// Display only: the server prices the decision when it is saved (claims/pricing.py).
(() => {
  "use strict";

  const form = document.querySelector("[data-decision-form]");
  if (!form) return;

  const locale = form.dataset.locale || document.documentElement.lang || "en";
  const moneyFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  // Exact arithmetic on scaled integers: "12.5" -> 1250 with places=2; null when not a plain
  // non-negative number with at most `places` decimals.
  function scaled(text, places) {
    const value = String(text ?? "").trim();
    const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
    if (!match) return null;
    const fraction = (match[2] || "").padEnd(places, "0");
    if (fraction.length > places && /[^0]/.test(fraction.slice(places))) return null;
    return Number(match[1]) * 10 ** places + Number(fraction.slice(0, places) || 0);
  }
  const cents = (text) => scaled(text, 2);
  const formatCents = (value) => moneyFormat.format(value / 100);
  const roundDiv = (numerator, divisor) => Math.floor((numerator + divisor / 2) / divisor); // half-up
  const handlingRate = scaled(form.dataset.handlingRate, 6) || 0; // millionths

  // The approved amount of a line in cents, from the value typed in its input.
  function approvedCents(input) {
    const kind = input.dataset.kind;
    const price = cents(input.dataset.unitPrice) ?? 0;
    if (kind === "part" || kind === "trip") {
      const qty = scaled(input.value, 0);
      return qty === null ? null : qty * price;
    }
    if (kind === "labor") {
      const hours = scaled(input.value, 2);
      return hours === null ? null : roundDiv(hours * price, 100);
    }
    return cents(input.value);
  }

  function recompute() {
    const sums = { parts: 0, labor: 0, other: 0 };
    let complete = true;
    form.querySelectorAll("[data-approve-input]").forEach((input) => {
      const row = input.closest("tr");
      const claimedAmount = cents(input.dataset.claimedAmount) ?? 0;
      const amount = approvedCents(input);
      const shown = row?.querySelector("[data-line-amount]");
      const over = amount !== null && amount > claimedAmount;
      if (shown) {
        shown.textContent = amount === null ? "–" : formatCents(amount);
        shown.classList.toggle("text-danger", over || amount === null);
      }
      const cut = amount !== null && amount < claimedAmount;
      row?.classList.toggle("line-cut", cut);
      const reason = row?.querySelector("[data-reason-select]");
      if (reason) reason.classList.toggle("needs-reason", cut && !reason.value);
      if (amount === null) {
        complete = false;
        return;
      }
      const kind = input.dataset.kind;
      if (kind === "part") sums.parts += amount;
      else if (kind === "labor") sums.labor += amount;
      else sums.other += amount;
    });
    const handling = roundDiv(sums.parts * handlingRate, 1000000);
    const totals = { ...sums, handling, total: sums.parts + handling + sums.labor + sums.other };
    Object.entries(totals).forEach(([key, value]) => {
      document.querySelectorAll(`[data-running="${key}"]`).forEach((cell) => {
        cell.textContent = complete || key !== "total" ? formatCents(value) : "–";
      });
    });
    // The approval's confirmation names the amount being approved.
    const approve = form.querySelector("[data-confirm-template]");
    if (approve && complete) {
      approve.dataset.confirm = approve.dataset.confirmTemplate.replace("{amount}", formatCents(totals.total));
    }
    // What the cuts take off the claim, beside the running total.
    const cutNote = form.querySelector("[data-running-cut]");
    if (cutNote) {
      const difference = (cents(form.dataset.claimedTotal) ?? 0) - totals.total;
      cutNote.hidden = !complete || difference <= 0;
      cutNote.textContent = `−${formatCents(Math.max(difference, 0))}`;
    }
  }

  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  recompute();
})();
