// dropbell: countdowns, the Remind me and post toggles without a reload, share (the share sheet, or copy the link),
// the compose counter, and live notifications (SSE).
// No framework and no inline script: the page works without this file, it is just nicer with it.
(() => {
  "use strict";
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
  const csrf = meta("csrf-token");
  // What the script says, in the page's language: base.html carries the translations
  // (#ui-text), keyed by the English text; {name} placeholders are filled in here.
  let uiText = {};
  try { uiText = JSON.parse(document.getElementById("ui-text")?.textContent || "{}"); } catch (_) { /* English */ }
  const ui = (text, values = {}) =>
    (uiText[text] || text).replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
  // The language switcher sends itself when a language is picked (its button is for no script).
  document.querySelector("[data-language-switcher] select")
    ?.addEventListener("change", (event) => event.target.form.requestSubmit());
  // The server's clock, carried by the page (and each card, and the stream): countdowns and
  // "3 min ago" count from it and this device's monotonic clock, never from the device's
  // date, which may be set wrong (or be changed while the page is open).
  let serverBase = Date.now();
  let perfBase = performance.now();
  const serverNow = () => serverBase + (performance.now() - perfBase);

  const syncClock = (iso) => {
    const t = Date.parse(iso || "");
    if (Number.isNaN(t)) return;
    serverBase = t;
    perfBase = performance.now();
  };
  syncClock(meta("server-now"));

  // Time zones: a page is rendered in the account's saved zone for a shopper, else in the
  // zone this browser said it is in (a cookie), else UTC. A visitor's first page is redone
  // here in the device's zone; a shopper whose device is elsewhere gets a hint.
  const lang = document.documentElement.lang || "en";
  const zoneMeta = document.querySelector('meta[name="time-zone"]');
  const pageZone = zoneMeta?.content || "UTC";
  const fromAccount = Boolean(zoneMeta?.hasAttribute("data-account"));
  let deviceZone = "";
  try { deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (_) { /* old browser */ }
  const showZone = fromAccount || !deviceZone ? pageZone : deviceZone;
  if (!fromAccount && deviceZone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(deviceZone)) {
    document.cookie = `dropbell_tz=${deviceZone}; path=/; max-age=31536000; samesite=lax`;
  }

  const sameZone = (a, b) => {
    // Two names for the same clock (Europe/Berlin and Europe/Paris) are not "elsewhere".
    try {
      const at = (zone, t) => new Date(t).toLocaleString("en-US", { timeZone: zone });
      const t = Date.now(), later = t + 182 * 86400000;
      return at(a, t) === at(b, t) && at(a, later) === at(b, later);
    } catch (_) { return a === b; }
  };

  const formatLocal = (t) => {
    const opts = {
      timeZone: showZone, weekday: "short", day: "numeric", month: "short", year: "numeric",
      hour: "numeric", minute: "2-digit", timeZoneName: "short",
    };
    if (!lang.startsWith("en")) return new Intl.DateTimeFormat(lang, opts).format(t);
    // The server's English: "Fri 12 Dec 2025, 7:00 PM JST".
    const p = {};
    new Intl.DateTimeFormat("en-US", { ...opts, hour12: true }).formatToParts(t).forEach((x) => { p[x.type] = x.value; });
    return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} ${p.dayPeriod} ${p.timeZoneName}`;
  };

  const localizeTimes = () => {
    if (showZone === pageZone) return;
    document.querySelectorAll("time[data-local]:not([data-zone])").forEach((el) => {
      const t = Date.parse(el.getAttribute("datetime") || "");
      if (Number.isNaN(t)) return;
      try {
        el.textContent = formatLocal(t);
        el.dataset.zone = showZone;
      } catch (_) { /* an unknown zone: keep the server's */ }
    });
  };

  const zoneHint = () => {
    const hint = document.querySelector("[data-tz-hint]");
    if (!hint || !fromAccount || !deviceZone || sameZone(deviceZone, pageZone)) return;
    const name = hint.querySelector("[data-device-tz]");
    if (name) name.textContent = deviceZone.replace(/_/g, " ");
    hint.hidden = false;
  };

  // "3 min ago", kept true while the page stays open (the server's words in English).
  const relative = typeof Intl.RelativeTimeFormat === "function" ? new Intl.RelativeTimeFormat(lang, { numeric: "auto" }) : null;
  const formatAgo = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (lang.startsWith("en") || !relative) {
      if (s < 60) return "just now";
      if (s < 3600) return `${Math.floor(s / 60)} min ago`;
      if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
      return `${Math.floor(s / 86400)} d ago`;
    }
    if (s < 60) return relative.format(0, "second");
    if (s < 3600) return relative.format(-Math.floor(s / 60), "minute");
    if (s < 86400) return relative.format(-Math.floor(s / 3600), "hour");
    return relative.format(-Math.floor(s / 86400), "day");
  };

  const updateAgo = () => {
    const now = serverNow();
    document.querySelectorAll("time[data-ago]").forEach((el) => {
      const t = Date.parse(el.getAttribute("datetime") || "");
      if (Number.isNaN(t)) return;
      const text = formatAgo(now - t);
      if (el.textContent !== text) el.textContent = text;
    });
  };

  const pad = (n) => String(n).padStart(2, "0");
  const formatLeft = (ms) => {
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d) return ui("Starts in {d}d {h}h", { d, h });
    if (h) return ui("Starts in {h}h {m}m", { h, m: pad(m) });
    return ui("Starts in {m}:{s}", { m, s: pad(sec) });
  };

  const tick = () => {
    localizeTimes();
    updateAgo();
    const now = serverNow();
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const left = Date.parse(el.dataset.countdown) - now;
      if (left > 0) {
        el.textContent = formatLeft(left);
        return;
      }
      el.textContent = ui("Live now");
      if (!el.dataset.expired) {
        el.dataset.expired = "1";
        const card = el.closest("[data-drop-id]");
        if (card) refreshDrop(card.dataset.dropId);
      }
    });
  };

  // Replace a card (or any fragment root) with fresh server HTML, keeping keyboard focus.
  const focusKeyIn = (el) =>
    el.contains(document.activeElement) ? document.activeElement.dataset.focusKey || "*" : null;

  const replaceWith = (el, html, focusKey = focusKeyIn(el)) => {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    const next = t.content.firstElementChild;
    if (!next) return;
    el.replaceWith(next);
    if (next.dataset.serverNow) syncClock(next.dataset.serverNow);
    if (focusKey) {
      const target = next.querySelector(`[data-focus-key="${focusKey}"]`) || next.querySelector("[data-focus-key]");
      target?.focus();
    }
    tick();
  };

  const refreshDrop = async (id) => {
    const cards = document.querySelectorAll(`[data-drop-id="${CSS.escape(String(id))}"]`);
    for (const card of cards) {
      const url = `/drops/${encodeURIComponent(id)}/card?variant=${card.dataset.variant}&source=${card.dataset.source}`;
      try {
        const r = await fetch(url, { headers: { "X-Fragment": "1" }, credentials: "same-origin" });
        if (r.ok) replaceWith(card, await r.text());
      } catch (_) { /* offline: the next event or reload will fix it */ }
    }
  };

  const toast = (text, href) => {
    const box = document.querySelector("[data-toasts]");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast";
    const span = document.createElement("span");
    span.textContent = text;
    el.append(span);
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = ui("Open");
      el.append(a);
    }
    box.append(el);
    setTimeout(() => el.remove(), 8000);
  };

  // Copy a link: the Clipboard API, else a hidden text field; focus stays where it was.
  const copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) { /* not allowed here: try the old way */ }
    const active = document.activeElement;
    const field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "sr-only";
    document.body.append(field);
    field.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { /* no luck */ }
    field.remove();
    if (active instanceof HTMLElement) active.focus();
    return ok;
  };

  // Post a form in the background, its button busy meanwhile. `done(r)` takes a successful
  // answer (a fragment of HTML) and says whether it did (true: the button went with the old
  // HTML). Otherwise `failed(r)` may take the error (true: nothing more to do), else its own
  // words are shown and the button is free again.
  const sendForm = async (form, button, done, failed = () => false) => {
    if (button) button.setAttribute("aria-busy", "true");
    try {
      const r = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRF-Token": csrf, "X-Fragment": "1" },
        credentials: "same-origin",
      });
      if (r.ok && (await done(r))) return;
      if (failed(r)) return;
      let message = ui("Something went wrong. Try again.");
      try { message = (await r.json()).error || message; } catch (_) { /* not JSON */ }
      toast(message);
    } catch (_) {
      toast(ui("You seem to be offline."));
    }
    if (button) button.removeAttribute("aria-busy");
  };

  // Like / repost / bookmark / share: post in the background and swap the post's action bar
  // (every copy of it: a post and its reposts can be on one page), keeping keyboard focus.
  const postAction = async (form) => {
    const bar = form.closest("[data-post-actions]");
    if (!bar) return;
    const id = bar.dataset.postActions;
    const button = form.querySelector("button");
    const focusKey = button?.dataset.focusKey;
    const shareUrl = form.dataset.shareUrl;
    if (shareUrl) {
      // The device's share sheet where there is one (phones); else copy the link.
      if (typeof navigator.share === "function") {
        try {
          await navigator.share({ title: document.title, url: shareUrl });
        } catch (err) {
          if (err && err.name === "AbortError") return; // closed the sheet: nothing shared
          const copied = await copyText(shareUrl);
          toast(copied ? ui("Link copied") : ui("Copy this link: {url}", { url: shareUrl }));
        }
      } else {
        const copied = await copyText(shareUrl);
        toast(copied ? ui("Link copied") : ui("Copy this link: {url}", { url: shareUrl }));
      }
    }
    const done = async (r) => {
      const html = await r.text();
      // An undone repost: the shopper's own repost entry leaves the timeline at once.
      const gone = form.action.endsWith("/unrepost")
        ? [...document.querySelectorAll(`article[data-own-repost][data-post-id="${CSS.escape(id)}"]`)]
        : [];
      const fromGone = gone.some((entry) => entry.contains(bar));
      document.querySelectorAll(`[data-post-actions="${CSS.escape(id)}"]`).forEach((el) => {
        replaceWith(el, html, el === bar && !fromGone ? focusKey : null);
      });
      if (gone.length) {
        const after = gone[gone.length - 1].nextElementSibling;
        gone.forEach((entry) => entry.remove());
        if (fromGone) {
          // Focus the original's Repost button if it is on the page, else what came next.
          const target = document.querySelector(`[data-post-actions="${CSS.escape(id)}"] [data-focus-key="repost"]`)
            || after?.querySelector("a[href], button") || document.getElementById("main");
          if (target instanceof HTMLElement) target.focus();
        }
      }
      return true;
    };
    await sendForm(form, button, done, (r) => {
      if (r.status !== 401) return false;
      window.location.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
      return true;
    });
  };

  // My reminders: Undo posts in the background and takes the row away; focus moves to the
  // next row's Undo (or the heading once the list is empty).
  const removeReminder = async (form) => {
    const row = form.closest("[data-reminder-row]");
    const button = form.querySelector("button");
    await sendForm(form, button, () => {
      if (!row) return false;
      const title = row.querySelector("h2")?.textContent.trim() || "the drop";
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (!document.querySelector("[data-reminder-row]")) {
        document.querySelector("[data-reminder-list]")?.remove();
        const empty = document.querySelector("[data-reminders-empty]");
        if (empty) empty.hidden = false;
      }
      toast(ui("Reminder removed: {title}", { title }));
      const focus = next?.querySelector('[data-focus-key="undo"]') || document.querySelector("h1");
      if (focus instanceof HTMLElement) {
        if (!focus.hasAttribute("tabindex") && focus.tagName === "H1") focus.setAttribute("tabindex", "-1");
        focus.focus();
      }
      return true;
    });
  };

  // Remind me / Reminder set: post in the background and swap the card.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-post-action")) {
      event.preventDefault();
      postAction(form);
      return;
    }
    if (form.hasAttribute("data-remove-reminder")) {
      event.preventDefault();
      removeReminder(form);
      return;
    }
    if (!form.hasAttribute("data-fragment")) return;
    const card = form.closest("[data-drop-id]");
    if (!card) return;
    event.preventDefault();
    // Remind me on a drop's page sits outside the form of the leads it sends (form=…).
    const button = event.submitter instanceof HTMLButtonElement ? event.submitter : form.querySelector("button");
    const focusKey = button?.dataset.focusKey || focusKeyIn(card);
    const done = async (r) => {
      replaceWith(card, await r.text(), focusKey);
      return true;
    };
    await sendForm(form, button, done, (r) => {
      if (r.status === 409) refreshDrop(card.dataset.dropId); // the toast says why
      return false;
    });
  });

  // The unread badge (and the tab title) follow the live count.
  const setUnread = (count) => {
    document.querySelectorAll("[data-unread-badge]").forEach((el) => { el.hidden = count === 0; });
    document.querySelectorAll("[data-unread-count]").forEach((el) => { el.textContent = String(count); });
    document.title = (count ? `(${count}) ` : "") + document.title.replace(/^\(\d+\) /, "");
  };

  const WHAT = {
    drop_soon: "{title} starts soon",
    drop_live: "{title} is live now",
    drop_rescheduled: "{title} has a new launch time",
    drop_cancelled: "{title} was cancelled",
    drop_announced: "{brand} announced {title}",
  };

  const addToList = async (n) => {
    const list = document.querySelector("[data-notification-list]");
    if (!list || list.querySelector(`[data-notification-id="${n.id}"]`)) return;
    try {
      const r = await fetch(`/notifications/${n.id}/row`, { headers: { "X-Fragment": "1" } });
      if (!r.ok) return;
      const t = document.createElement("template");
      t.innerHTML = (await r.text()).trim();
      const row = t.content.firstElementChild;
      if (row) list.prepend(row);
      document.querySelector("[data-empty]")?.remove();
    } catch (_) { /* ignore */ }
  };

  const listen = () => {
    const url = document.body.dataset.stream;
    if (!url || !("EventSource" in window)) return;
    const source = new EventSource(url, { withCredentials: true });
    source.addEventListener("clock", (e) => syncClock(JSON.parse(e.data).now));
    source.addEventListener("unread_count", (e) => setUnread(JSON.parse(e.data).count));
    source.addEventListener("notification", (e) => {
      const n = JSON.parse(e.data);
      addToList(n);
      if (n.drop) {
        refreshDrop(n.drop.id);
        if (!n.read) toast(ui(WHAT[n.type] || "{title} has news", { title: n.drop.title, brand: n.drop.brand.display_name }), `/drops/${n.drop.id}?via=notification`);
      } else if (n.account && n.post && !n.read) {
        const did = n.type === "like" ? "{name} liked your post" : "{name} reposted your post";
        toast(ui(did, { name: n.account.display_name }), `/posts/${n.post.id}`);
      }
    });
  };

  // Compose: a live character count (the server still checks the limit).
  const counters = () => {
    document.querySelectorAll("textarea[data-counter]").forEach((area) => {
      const hint = document.getElementById(area.dataset.counter);
      const count = hint?.querySelector("[data-count]");
      if (!count) return;
      const update = () => {
        const n = area.value.trim().length;
        count.textContent = String(n);
        hint.classList.toggle("over", n > 500);
      };
      area.addEventListener("input", update);
      update();
    });
  };

  // Sign-up: pre-select the browser's time zone.
  const detectZone = () => {
    const select = document.querySelector("select[data-detect-tz]");
    if (!select || select.value !== "UTC") return;
    try {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && [...select.options].some((o) => o.value === zone)) select.value = zone;
    } catch (_) { /* keep UTC */ }
  };

  tick();
  setInterval(tick, 1000);
  zoneHint();
  detectZone();
  counters();
  listen();
})();
