// dropbell: Web Push on this device.
// - registers the service worker (/sw.js, scope "/") on every page;
// - for a logged-in shopper, at each visit: sends this browser's push subscription to the
//   server again (so it has the current one), and subscribes again if the server's key changed;
// - the "Notifications on this device" panel on the notifications page ([data-push-panel]):
//   turn on / off, one switch per kind of notification, and what to do when the browser
//   blocks notifications or cannot show them;
// - the same offer on a drop after Remind me ([data-push-offer]), until it is turned on or
//   dismissed.
// The server side is /push/key and /push/subscription (the session cookie, CSRF header).
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  let uiText = {};  // the page's language (base.html's #ui-text), keyed by the English text
  try { uiText = JSON.parse(document.getElementById("ui-text")?.textContent || "{}"); } catch (_) { /* English */ }
  const ui = (text) => uiText[text] || text;
  const loggedIn = document.body.hasAttribute("data-stream");
  const canRegister = "serviceWorker" in navigator;
  const supported = canRegister && "PushManager" in window && "Notification" in window;
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent)
    || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const standalone = navigator.standalone === true
    || window.matchMedia("(display-mode: standalone)").matches;
  const STORE = "dropbell-push"; // Cache Storage, shared with the service worker
  const CSRF_KEY = "/push/csrf";
  const DISMISSED = "dropbell.push-offer";
  const SYNCED = "dropbell.push-synced"; // sessionStorage: this tab already synced

  // --- the server ---------------------------------------------------------------------

  const readError = async (r) => {
    try { return (await r.json()).error; } catch (_) { return null; }
  };

  const call = async (method, body) => {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch("/push/subscription", {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (method === "GET" && r.status === 404) return null;
    if (!r.ok) throw new Error((await readError(r)) || ui("Something went wrong. Try again."));
    return r.json();
  };

  const serverKey = async () => {
    const r = await fetch("/push/key", { credentials: "same-origin" });
    if (!r.ok) throw new Error((await readError(r)) || ui("Notifications are not available right now."));
    return (await r.json()).public_key;
  };

  // --- keys -----------------------------------------------------------------------------

  const fromB64url = (text) => {
    const pad = "=".repeat((4 - (text.length % 4)) % 4);
    const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const toB64url = (bytes) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const keyOf = (sub) => {
    const key = sub.options && sub.options.applicationServerKey;
    return key ? toB64url(key) : null;
  };
  const sameKey = (sub, key) => {
    const have = keyOf(sub);
    return have === null || have === key.replace(/=+$/, "");
  };

  // --- this browser ---------------------------------------------------------------------

  const registration = canRegister
    ? navigator.serviceWorker.register("/sw.js", { scope: "/" })
      .then(() => navigator.serviceWorker.ready)
      .catch(() => null)
    : Promise.resolve(null);

  // The service worker re-subscribes by itself when the browser renews a subscription;
  // it needs this session's CSRF token for that, and must forget it once logged out.
  const shareCsrf = async () => {
    if (!("caches" in window)) return;
    try {
      if (loggedIn && csrf) {
        const cache = await caches.open(STORE);
        await cache.put(CSRF_KEY, new Response(csrf));
      } else {
        await caches.delete(STORE);
      }
    } catch (_) { /* storage off: the next visit re-syncs instead */ }
  };

  const subscribeWith = (reg, key) =>
    reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(key) });

  // What this device is now: "ios", "unsupported", "denied", "off" or "on" (with the server's
  // subscription). Syncs on the way: the browser's subscription is sent to the server again,
  // on the notifications page and once per visit (a tab's session) elsewhere.
  const panelHere = () => document.querySelector("[data-push-panel]") !== null;
  let current = null;
  const syncOnce = async () => {
    if (ios && !standalone) return { state: "ios" };
    if (!supported) return { state: "unsupported" };
    if (Notification.permission === "denied") return { state: "denied" };
    const reg = await registration;
    if (!reg) return { state: "unsupported" };
    let sub = await reg.pushManager.getSubscription();
    if (!sub || Notification.permission !== "granted") return { state: "off" };
    let synced = false;
    try { synced = sessionStorage.getItem(SYNCED) === "1"; } catch (_) { /* no storage */ }
    if (synced && !panelHere()) return { state: "on" };
    const key = await serverKey();
    const known = await call("GET");
    if (!sameKey(sub, key) || (known && known.server_key && known.server_key !== key)) {
      await sub.unsubscribe();
      sub = await subscribeWith(reg, key);
    }
    const body = { subscription: sub.toJSON() };
    if (known) body.data = { alerts: known.alerts };
    const saved = await call("POST", body);
    try { sessionStorage.setItem(SYNCED, "1"); } catch (_) { /* no storage */ }
    return { state: "on", subscription: saved };
  };
  const status = () => {
    if (!current) {
      current = syncOnce().catch((err) => ({ state: "error", message: err.message }));
    }
    return current;
  };

  const turnOn = async () => {
    const permission = await Notification.requestPermission();
    if (permission === "denied") return { state: "denied" };
    if (permission !== "granted") return { state: "off", message: ui("Notifications were not turned on.") };
    const reg = await registration;
    if (!reg) return { state: "unsupported" };
    const key = await serverKey();
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameKey(sub, key)) {
      await sub.unsubscribe();
      sub = null;
    }
    if (!sub) sub = await subscribeWith(reg, key);
    return { state: "on", subscription: await call("POST", { subscription: sub.toJSON() }) };
  };

  const turnOff = async () => {
    await call("DELETE");
    const reg = await registration;
    const sub = reg && (await reg.pushManager.getSubscription());
    if (sub) await sub.unsubscribe();
    return { state: "off" };
  };

  // --- the panel and the offer ----------------------------------------------------------

  const boxes = () => document.querySelectorAll("[data-push-panel], [data-push-offer]:not([hidden])");

  const say = (box, text) => {
    const line = box.querySelector("[data-push-message]");
    if (line) line.textContent = text || "";
  };

  const showAlerts = (box, alerts) => {
    box.querySelectorAll("input[data-alerts]").forEach((input) => {
      input.checked = input.dataset.alerts.split(" ").every((type) => alerts[type] === true);
    });
  };

  const show = (box, st) => {
    box.hidden = false;
    box.dataset.pushShown = st.state;
    box.querySelectorAll("[data-push-state]").forEach((part) => {
      part.hidden = part.dataset.pushState !== st.state;
    });
    if (st.state === "on" && st.subscription) showAlerts(box, st.subscription.alerts || {});
    say(box, st.state === "error" ? st.message : st.message || "");
  };

  const showEverywhere = (st) => {
    current = Promise.resolve(st);
    boxes().forEach((box) => show(box, st));
  };

  const busy = async (button, work) => {
    const box = button.closest("[data-push-panel], [data-push-offer]");
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    try {
      showEverywhere(await work());
    } catch (err) {
      if (box) say(box, err.message || ui("Something went wrong. Try again."));
    } finally {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    }
  };

  const offer = async (el) => {
    if (!loggedIn || localStorage.getItem(DISMISSED)) return;
    const st = await status();
    if (st.state === "off" || st.state === "ios") show(el, st);
  };

  // Logging out turns notifications off on this device first: whoever logs in next on it
  // starts with them off (never with the last shopper's).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || new URL(form.action).pathname !== "/logout") return;
    if (!supported || form.dataset.pushDone) return;
    event.preventDefault();
    form.dataset.pushDone = "1";
    const off = (async () => {
      const reg = await registration;
      const sub = reg && (await reg.pushManager.getSubscription());
      if (!sub) return;
      // Both at once: this device's unsubscribe never waits on a slow server.
      await Promise.all([call("DELETE").catch(() => null), sub.unsubscribe()]);
    })();
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000));
    Promise.race([off, timeout]).catch(() => null).then(() => form.submit());
  });

  // Remind me just tapped on this drop: its new card carries the offer.
  const reminded = new Set();
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !/\/remind$/.test(form.action)) return;
    const card = form.closest("[data-drop-id]");
    if (card) reminded.add(card.dataset.dropId);
  });
  const offersIn = (root) => {
    const found = root.matches?.("[data-push-offer]") ? [root] : [...(root.querySelectorAll?.("[data-push-offer]") || [])];
    found.forEach((el) => {
      const card = el.closest("[data-drop-id]");
      if (card && (card.dataset.variant === "page" || reminded.has(card.dataset.dropId))) offer(el);
    });
  };
  new MutationObserver((changes) => {
    changes.forEach((change) => change.addedNodes.forEach((node) => {
      if (node instanceof Element) offersIn(node);
    }));
  }).observe(document.body, { childList: true, subtree: true });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const on = target?.closest("[data-push-on]");
    const off = target?.closest("[data-push-off]");
    const dismiss = target?.closest("[data-push-dismiss]");
    if (on) busy(on, turnOn);
    else if (off) busy(off, turnOff);
    else if (dismiss) {
      localStorage.setItem(DISMISSED, "1");
      dismiss.closest("[data-push-offer]").hidden = true;
    }
  });

  document.addEventListener("change", async (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.alerts) return;
    const box = input.closest("[data-push-panel]");
    const alerts = {};
    box.querySelectorAll("input[data-alerts]").forEach((each) => {
      each.dataset.alerts.split(" ").forEach((type) => { alerts[type] = each.checked; });
    });
    input.setAttribute("aria-busy", "true");
    try {
      const saved = await call("PUT", { data: { alerts } });
      current = Promise.resolve({ state: "on", subscription: saved });
      showAlerts(box, saved.alerts || {});
      say(box, ui("Saved."));
    } catch (err) {
      input.checked = !input.checked;
      say(box, err.message);
    } finally {
      input.removeAttribute("aria-busy");
    }
  });

  shareCsrf();
  if (loggedIn) {
    document.querySelectorAll("[data-push-panel]").forEach(async (panel) => show(panel, await status()));
    offersIn(document.body);
    status(); // the visit's sync, on every page
  }
})();
