// dropbell's service worker, served at /sw.js (scope "/"): Web Push notifications only.
// It caches no pages: the site always comes from the server.
//
// - push: the payload is JSON {title, body, icon, url, tag, notification_id, type}; one
//   notification per tag, so a push sent again replaces the first one instead of doubling it.
// - notificationclick: focus a dropbell tab already at the drop's page, else open it.
// - pushsubscriptionchange: the browser renewed the subscription; subscribe again and tell
//   the server (the page left its CSRF token in Cache Storage for this).
"use strict";

const STORE = "dropbell-push";
const CSRF_KEY = "/push/csrf";
const ICON = "/static/icons/icon-192.png";
const BADGE = "/static/icons/badge-96.png";

self.addEventListener("install", () => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

const payloadOf = (event) => {
  if (!event.data) return {};
  try {
    const data = event.data.json();
    return data && typeof data === "object" ? data : {};
  } catch (_) {
    return { body: event.data.text() };
  }
};

// Only our own pages (or the public URL's) are ever opened from a notification.
const safeUrl = (value) => {
  try {
    const url = new URL(value || "/notifications", self.location.origin);
    if (url.protocol === "https:" || url.protocol === "http:") return url.href;
  } catch (_) { /* not a URL */ }
  return new URL("/notifications", self.location.origin).href;
};

self.addEventListener("push", (event) => {
  const p = payloadOf(event);
  const options = {
    body: p.body || "",
    icon: p.icon || ICON,
    badge: BADGE,
    tag: p.tag ? String(p.tag) : "",
    renotify: false,
    data: { url: safeUrl(p.url), notification_id: p.notification_id ?? null, type: p.type ?? null },
  };
  event.waitUntil(self.registration.showNotification(p.title || "dropbell", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = safeUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = tabs.find((tab) => tab.url === url);
    if (open && "focus" in open) return open.focus();
    return self.clients.openWindow(url);
  })());
});

const csrfToken = async () => {
  try {
    const cache = await caches.open(STORE);
    const hit = await cache.match(CSRF_KEY);
    return hit ? await hit.text() : null;
  } catch (_) {
    return null;
  }
};

const b64url = (text) => {
  const pad = "=".repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};

const resubscribe = async (event) => {
  const token = await csrfToken();
  if (!token) return; // never logged in here: the next visit to the site syncs instead
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": token };
  // Keep the shopper's choices: read them before the server forgets the old endpoint.
  let alerts = null;
  try {
    const r = await fetch("/push/subscription", { credentials: "same-origin" });
    if (r.ok) alerts = (await r.json()).alerts || null;
  } catch (_) { /* offline */ }
  let sub = event.newSubscription || null;
  if (!sub) {
    const r = await fetch("/api/v1/push/key", { credentials: "same-origin" });
    if (!r.ok) return;
    const { public_key: key } = await r.json();
    sub = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: b64url(key),
    });
  }
  const body = { subscription: sub.toJSON() };
  if (alerts) body.data = { alerts };
  await fetch("/push/subscription", {
    method: "POST",
    credentials: "same-origin",
    headers,
    body: JSON.stringify(body),
  });
};

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event).catch(() => { /* the next visit re-syncs */ }));
});
