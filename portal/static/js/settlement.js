// Settlement pages: progress bars, the run page following its run, the PDF page waiting for its
// render job. Kept out of the pages: the Content-Security-Policy forbids inline scripts and style
// attributes (a width set here through the CSSOM is allowed).
(() => {
  "use strict";

  const POLL_MS = 1500;

  function setBar(bar, value) {
    const percent = Math.max(0, Math.min(100, Number(value) || 0));
    bar.style.width = `${percent}%`;
    bar.textContent = `${percent}%`;
    bar.dataset.progress = String(percent);
    const frame = bar.closest("[data-progress-frame]");
    if (frame) frame.setAttribute("aria-valuenow", String(percent));
  }

  async function getJson(url) {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) {
      const error = new Error(`HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  // A run that is queued, running or releasing: poll its progress; reload the page once the run
  // has moved on (running, draft, released, failed) or its worker seems gone or back (the page
  // then offers Resume, or stops offering it).
  function followRun(box) {
    const url = box.dataset.runProgressUrl;
    const startStatus = box.dataset.runStatus;
    const startStep = box.dataset.runStep;
    const startStale = box.dataset.runStale === "true";
    const bar = box.querySelector("[data-progress]");
    const stepLabel = box.querySelector("[data-run-step-label]");
    let failures = 0;

    async function tick() {
      try {
        const run = await getJson(url);
        failures = 0;
        if (bar) setBar(bar, run.progress);
        if (stepLabel && run.step_label) stepLabel.textContent = run.step_label;
        const moved =
          run.status !== startStatus ||
          (startStep === "releasing" && run.step !== "releasing") ||
          run.stale !== startStale;
        if (moved) {
          window.location.reload();
          return;
        }
      } catch (error) {
        failures += 1;
        if (failures >= 5) return; // signed out or the server is gone: stop asking
      }
      window.setTimeout(tick, POLL_MS);
    }
    window.setTimeout(tick, POLL_MS);
  }

  function show(box, state) {
    box.querySelectorAll("[data-pdf-state]").forEach((el) => {
      el.hidden = el.dataset.pdfState !== state;
    });
  }

  // The PDF page: wait for the render job (ours), or, if someone else's job renders it, ask the
  // PDF address itself (HEAD: 200 once the file is there, 202 while it is being prepared).
  function waitForPdf(box) {
    const jobUrl = box.dataset.pdfJobUrl;
    const pdfUrl = box.dataset.pdfReload || box.querySelector("[data-pdf-state=ready] a")?.getAttribute("href");
    let failures = 0;

    async function byHead() {
      try {
        const response = await fetch(pdfUrl, { method: "HEAD", credentials: "same-origin", cache: "no-store" });
        if (response.status === 200) {
          show(box, "ready");
          return;
        }
      } catch (error) {
        failures += 1;
        if (failures >= 5) return;
      }
      window.setTimeout(byHead, POLL_MS * 2);
    }

    async function byJob() {
      try {
        const job = await getJson(jobUrl);
        failures = 0;
        if (job.status === "finished") {
          show(box, "ready");
          return;
        }
        if (job.status === "failed" || job.status === "stopped" || job.status === "canceled") {
          show(box, "failed");
          return;
        }
      } catch (error) {
        if (error.status === 404) {
          window.setTimeout(byHead, POLL_MS);
          return;
        }
        failures += 1;
        if (failures >= 5) return;
      }
      window.setTimeout(byJob, POLL_MS);
    }

    if (jobUrl) byJob();
    else window.setTimeout(byHead, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-progress]").forEach((bar) => setBar(bar, bar.dataset.progress));
    document.querySelectorAll("[data-run-progress-url]").forEach(followRun);
    document.querySelectorAll("[data-pdf-job-url], [data-pdf-reload]").forEach(waitForPdf);
  });
})();
