// The claim form: line rows added and removed on the page, lookups of vehicles, parts, labor
// operations and fault codes, and running totals. The totals are an estimate for display only:
// the server prices every line when the claim is saved. Without JavaScript the form still works
// (adding and removing a row is then a round trip to the server).
(() => {
  "use strict";

  const form = document.querySelector("[data-claim-form]");
  if (!form) return;
  const vinInput = form.querySelector("[data-vin-input]");
  const vinButton = form.querySelector("[data-vin-lookup]");
  const panel = form.querySelector("[data-vehicle-panel]");

  const locale = form.dataset.locale || document.documentElement.lang || "en";
  const moneyFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // A day (ISO text from the lookup) as the reader writes it, as the pages do: "Nov 20, 2026".
  const dayFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });
  const day = (iso) => (iso ? dayFormat.format(new Date(`${iso}T00:00:00Z`)) : "–");

  // -- exact arithmetic on cents ------------------------------------------------------------

  // "12.5" -> 1250 with places=2; null when the text is not a plain non-negative number.
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
  // Half-up rounding of a product of scaled integers back to cents.
  const roundDiv = (numerator, divisor) => Math.floor((numerator + divisor / 2) / divisor);

  const laborRate = cents(form.dataset.laborRate) || 0;
  const kmRate = cents(form.dataset.kmRate) || 0;
  const handlingRate = scaled(form.dataset.handlingRate, 6) || 0; // millionths
  const standardHours = (item) => `${item.description} · ${(form.dataset.standardTemplate || "{hours} h").replace("{hours}", item.standard_hours)}`;

  function lineAmount(row) {
    const kind = row.dataset.kind;
    const value = (selector) => row.querySelector(selector)?.value;
    if (kind === "part") {
      const qty = scaled(value("[data-line-qty]"), 0);
      const price = cents(row.querySelector("[data-line-price]")?.dataset.price);
      return qty === null || price === null ? null : qty * price;
    }
    if (kind === "labor") {
      const hours = scaled(value("[data-line-hours]"), 2);
      return hours === null ? null : roundDiv(hours * laborRate, 100);
    }
    if (kind === "trip") {
      const km = scaled(value("[data-line-qty]"), 0);
      return km === null ? null : km * kmRate;
    }
    return cents(value("[data-line-amount-input]"));
  }

  function recompute() {
    const sums = { parts: 0, labor: 0, other: 0 };
    form.querySelectorAll("[data-line]").forEach((row) => {
      const amount = lineAmount(row);
      const shown = row.querySelector("[data-line-amount]");
      if (shown) shown.textContent = amount === null ? "" : formatCents(amount);
      if (amount === null) return;
      const kind = row.dataset.kind;
      if (kind === "part") sums.parts += amount;
      else if (kind === "labor") sums.labor += amount;
      else sums.other += amount;
    });
    const field = (selector) => form.querySelector(selector)?.value;
    const km = scaled(field("[data-trip-km]"), 0);
    if (km !== null) sums.other += km * kmRate;
    const hours = scaled(field("[data-roadside-hours]"), 2);
    if (hours !== null) sums.labor += roundDiv(hours * laborRate, 100);
    const tolls = cents(field("[data-tolls]"));
    if (tolls !== null) sums.other += tolls;
    const handling = roundDiv(sums.parts * handlingRate, 1000000);
    const totals = { ...sums, handling, total: sums.parts + handling + sums.labor + sums.other };
    Object.entries(totals).forEach(([key, value]) => {
      const cell = form.querySelector(`[data-total="${key}"]`);
      if (cell) cell.textContent = formatCents(value);
    });
  }

  // -- JSON lookups ----------------------------------------------------------------------------

  const cache = new Map();
  async function getJSON(url) {
    if (cache.has(url)) return cache.get(url);
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    const result = { ok: response.ok, body };
    if (response.ok) cache.set(url, result);
    return result;
  }

  const repairDate = () => form.querySelector("[data-repair-date]")?.value || "";
  const lookupUrl = (kind, q) => {
    const base = {
      parts: form.dataset.lookupParts,
      operations: form.dataset.lookupOperations,
      "fault-codes": form.dataset.lookupFaultCodes,
    }[kind];
    const params = new URLSearchParams({ q });
    if (kind === "parts" && repairDate()) params.set("date", repairDate());
    return `${base}?${params}`;
  };
  const datalistFor = { parts: "part-options", operations: "operation-options", "fault-codes": "fault-code-options" };

  function optionFor(kind, item) {
    const option = document.createElement("option");
    if (kind === "parts") {
      option.value = item.number;
      option.label = item.unit_price ? `${item.name} · ${formatCents(cents(item.unit_price))}` : item.name;
    } else if (kind === "operations") {
      option.value = item.code;
      option.label = standardHours(item);
    } else {
      option.value = item.code;
      option.label = `${item.description} · ${item.system}`;
    }
    return option;
  }

  // Show what the typed code is (name, price, standard hours) beside the input.
  function applyMatch(input, kind, item) {
    const holder = input.closest("[data-line]") || input.parentElement;
    const name = holder.querySelector("[data-line-name], [data-lookup-name]");
    const row = input.closest("[data-line]");
    if (kind === "parts") {
      if (name) name.textContent = item ? item.name + (item.major_assembly ? " ★" : "") : "";
      if (row) {
        const cell = row.querySelector("[data-line-price]");
        cell.dataset.price = item?.unit_price ?? "";
        cell.textContent = item?.unit_price ? formatCents(cents(item.unit_price)) : "";
      }
    } else if (kind === "operations") {
      if (name) name.textContent = item ? standardHours(item) : "";
      const hours = row?.querySelector("[data-line-hours]");
      if (hours) hours.dataset.standard = item ? item.standard_hours : "";
    } else if (name) {
      name.textContent = item ? `${item.description} · ${item.system}` : "";
    }
    recompute();
  }

  async function lookup(input) {
    const kind = input.dataset.lookup;
    const q = input.value.trim();
    if (!q) {
      applyMatch(input, kind, null);
      return;
    }
    const { ok, body } = await getJSON(lookupUrl(kind, q));
    if (!ok || input.value.trim() !== q) return; // a newer keystroke wins
    const results = body.results || [];
    const list = document.getElementById(datalistFor[kind]);
    if (list && document.activeElement === input) list.replaceChildren(...results.map((item) => optionFor(kind, item)));
    const key = kind === "parts" ? "number" : "code";
    const exact = results.find((item) => item[key].toUpperCase() === q.toUpperCase());
    applyMatch(input, kind, exact || null);
  }

  const timers = new WeakMap();
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (input.matches("[data-lookup]")) {
      clearTimeout(timers.get(input));
      timers.set(input, setTimeout(() => lookup(input), 180));
    }
    recompute();
  });
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-lookup]")) lookup(event.target);
    if (event.target.matches("[data-repair-date]")) {
      form.querySelectorAll('[data-lookup="parts"][data-line-part]').forEach((input) => lookup(input));
    }
    if (event.target.matches("[data-repair-date], [data-odometer]") && !panel?.hidden) lookupVehicle();
  });

  // -- adding and removing line rows ------------------------------------------------------------

  const tbody = form.querySelector("[data-lines]");
  const emptyNote = form.querySelector("[data-lines-empty]");
  const syncEmpty = () => {
    if (emptyNote) emptyNote.hidden = !!tbody?.querySelector("[data-line]");
  };

  form.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-line]");
    if (add && tbody) {
      event.preventDefault();
      const template = form.querySelector(`template[data-line-template="${add.dataset.addLine}"]`);
      const row = template.content.firstElementChild.cloneNode(true);
      tbody.appendChild(row);
      syncEmpty();
      row.querySelector("input:not([type=hidden])")?.focus();
      recompute();
      return;
    }
    const remove = event.target.closest("[data-remove-line]");
    if (remove) {
      event.preventDefault();
      remove.closest("[data-line]")?.remove();
      syncEmpty();
      recompute();
    }
  });

  // -- the vehicle: coverage per group and claim history ------------------------------------------

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text ?? "–";
    return td;
  }

  function badge(text, className) {
    const span = document.createElement("span");
    span.className = `badge ${className}`;
    span.textContent = text;
    return span;
  }

  const contractBox = panel ? panel.querySelector("[data-contracts]") : null;

  function showContracts(contracts) {
    // The vehicle's extended warranty contracts: what each extends and until when.
    const items = contracts.map((c) => {
      const li = document.createElement("li");
      li.dataset.contract = c.number;
      li.textContent = contractBox.dataset.template
        .replace("{number}", c.number)
        .replace("{group}", c.group_label || c.group)
        .replace("{start}", day(c.start_date))
        .replace("{end}", day(c.ends_on))
        .replace("{km}", new Intl.NumberFormat(locale).format(c.km));
      if (!c.in_force) li.className = "text-body-secondary";
      return li;
    });
    contractBox.querySelector("[data-contract-rows]").replaceChildren(...items);
    contractBox.hidden = items.length === 0;
  }

  function showVehicle(data) {
    const labels = panel.dataset;
    panel.querySelector("[data-vehicle-error]").hidden = true;
    const facts = {
      model: `${data.model.code} · ${data.model.name}`,
      sale_date: day(data.sale_date),
      selling_station: data.selling_station || "–",
      last_known_odometer_km: new Intl.NumberFormat(locale).format(data.last_known_odometer_km),
    };
    Object.entries(facts).forEach(([key, value]) => {
      panel.querySelector(`[data-v="${key}"]`).textContent = value;
    });
    const asOf = panel.querySelector("[data-coverage-asof]");
    asOf.textContent = asOf.dataset.template
      .replace("{date}", day(data.coverage_as_of.date))
      .replace("{km}", new Intl.NumberFormat(locale).format(data.coverage_as_of.odometer_km));
    const rows = data.coverage.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.group = c.group;
      tr.append(cell(c.group_label || c.group), cell(day(c.expires_on)), cell(c.km_left === null ? "–" : new Intl.NumberFormat(locale).format(c.km_left), "num"));
      const status = document.createElement("td");
      if (c.in_coverage) status.append(badge(labels.labelIn, "text-bg-success"));
      else status.append(badge(c.reason === "km" ? labels.labelOutKm : labels.labelOutTime, "text-bg-danger"));
      if (c.by_contract) {
        const note = document.createElement("div");
        note.className = "small text-body-secondary";
        note.textContent = contractBox.dataset.labelByContract.replace("{number}", c.contract);
        status.append(note);
      }
      tr.append(status);
      return tr;
    });
    panel.querySelector("[data-coverage-rows]").replaceChildren(...rows);
    showContracts(data.contracts || []);
    const history = data.claims.map((claim) => {
      const tr = document.createElement("tr");
      const first = document.createElement("td");
      if (claim.url) {
        const link = document.createElement("a");
        link.href = claim.url;
        link.className = "mono text-nowrap";
        link.textContent = claim.number;
        first.append(link);
      } else {
        first.className = "text-body-secondary small";
        first.textContent = labels.labelOtherStation;
      }
      const kind = document.createElement("div");
      kind.className = "text-body-secondary";
      kind.textContent = claim.type_label;
      first.append(kind);
      const status = document.createElement("td");
      status.append(badge(claim.status_label, "text-bg-light border"));
      tr.append(first, status, cell(day(claim.repair_date), "text-nowrap"),
        cell(claim.odometer_km === null ? "–" : new Intl.NumberFormat(locale).format(claim.odometer_km), "num"));
      return tr;
    });
    panel.querySelector("[data-history-rows]").replaceChildren(...history);
    panel.querySelector("[data-history-empty]").hidden = history.length > 0;
    panel.querySelector("[data-history-table]").hidden = history.length === 0;
    const campaigns = (data.campaigns || []).filter((c) => !c.done_on).map((c) => {
      const box = document.createElement("div");
      box.className = `alert ${c.kind === "recall" ? "alert-danger" : "alert-warning"} py-2 mb-2 fw-semibold`;
      box.dataset.testid = "lookup-campaign";
      box.textContent = `${c.kind === "recall" ? labels.labelRecall : labels.labelService} ${c.code}: ${c.title} `;
      const link = document.createElement("a");
      link.href = c.url;
      link.className = "alert-link";
      link.textContent = labels.labelFileCampaign;
      box.append(link);
      return box;
    });
    panel.querySelector("[data-campaigns]").replaceChildren(...campaigns);
    panel.querySelector("[data-vehicle-body]").hidden = false;
  }

  function showVehicleError(message) {
    const box = panel.querySelector("[data-vehicle-error]");
    box.textContent = message;
    box.hidden = false;
    panel.querySelector("[data-vehicle-body]").hidden = true;
  }

  async function lookupVehicle() {
    const vin = vinInput.value.trim().toUpperCase();
    if (!vin) return;
    panel.hidden = false;
    const params = new URLSearchParams({ vin });
    if (repairDate()) params.set("date", repairDate());
    const km = form.querySelector("[data-odometer]")?.value.trim();
    if (km && /^\d+$/.test(km)) params.set("km", km);
    vinButton.disabled = true;
    try {
      const { ok, body } = await getJSON(`${form.dataset.lookupVehicle}?${params}`);
      if (ok) showVehicle(body);
      else showVehicleError(body.error?.message || panel.dataset.labelFailed);
    } catch {
      showVehicleError(panel.dataset.labelFailed);
    } finally {
      vinButton.disabled = false;
    }
  }

  if (vinInput && vinButton && panel) {
    vinButton.hidden = false;
    vinButton.addEventListener("click", lookupVehicle);
    // Enter in the VIN field looks the vehicle up; it never saves the form.
    vinInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      lookupVehicle();
    });
    vinInput.addEventListener("input", () => {
      if (vinInput.value.trim().length === 17) lookupVehicle();
    });
    if (vinInput.value.trim().length === 17) lookupVehicle();
  }

  // Names and prices of what the page was rendered with, then the first totals.
  form.querySelectorAll("[data-lookup]").forEach((input) => {
    if (input.value.trim()) lookup(input);
  });
  recompute();
})();
