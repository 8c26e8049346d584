"""A desktop's notification service for the browser tests, so that a notification can be
clicked the way a shopper clicks it.

Chromium on Linux hands a web page's notifications to the desktop through D-Bus
(``org.freedesktop.Notifications``: ``Notify`` shows one, ``CloseNotification`` takes it
away, and the desktop sends the ``ActionInvoked`` signal when it is clicked). This is that
service on a private session bus (``dbus-daemon``), holding what is on screen; ``click``
sends the signal, and Chromium then fires a real ``notificationclick`` in the service worker
(one a page is allowed to open a window from). Nothing is ever shown.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.threading import (  # type: ignore[import-untyped]
    DBusConnection,
    ReceiveStopped,
    open_dbus_connection,
)

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


@dataclass
class Shown:
    """One notification as the desktop got it."""

    id: int
    app: str
    summary: str
    body: str
    actions: list[str]
    replaced: int = 0  # how many times it was updated in place (same id)


class NotificationDesktop:
    def __init__(self) -> None:
        daemon = shutil.which("dbus-daemon")
        assert daemon, (
            "the push tests need dbus-daemon (apt-get install dbus-daemon) to click a "
            "notification the way a desktop does"
        )
        self.bus = subprocess.Popen(
            [daemon, "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.bus.stdout is not None
        self.address = self.bus.stdout.readline().strip()
        assert self.address.startswith("unix:"), f"dbus-daemon said {self.address!r}"
        self.conn: DBusConnection = open_dbus_connection(bus=self.address)
        self.on_screen: dict[int, Shown] = {}
        self.log: list[tuple[str, int]] = []  # ("notify" | "replace" | "close", id)
        self._ids = iter(range(1, 1_000_000))
        self._lock = threading.Lock()
        self._reply: Any = None
        self._reply_event = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        reply = self._call(message_bus.RequestName(NAME, 4))  # DO_NOT_QUEUE
        assert reply.body[0] == 1, f"could not own {NAME}: {reply.body}"

    # --- what a test does ---

    def wait_for(self, summary: str, timeout: float = 10.0) -> Shown:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for shown in self.on_screen.values():
                    if shown.summary == summary:
                        return shown
            time.sleep(0.05)
        raise AssertionError(f"no notification {summary!r} on screen: {self.on_screen}")

    def click(self, shown: Shown) -> None:
        """The shopper taps the notification (its default action)."""
        emitter = DBusAddress(PATH, interface=NAME)
        self.conn.send(new_signal(emitter, "ActionInvoked", "us", (shown.id, "default")))

    def stop(self) -> None:
        self.conn.interrupt()
        self._thread.join(timeout=5)
        self.conn.close()
        self.bus.terminate()
        self.bus.wait(timeout=10)
        if self.bus.stdout is not None:
            self.bus.stdout.close()

    # --- the D-Bus service ---

    def _call(self, msg: Any, timeout: float = 5.0) -> Any:
        """Send a method call to the bus and wait for its reply (read by the serving thread)."""
        self._reply_event.clear()
        self.conn.send(msg)
        assert self._reply_event.wait(timeout), "no reply from the bus"
        return self._reply

    def _serve(self) -> None:
        while True:
            try:
                msg = self.conn.receive()
            except (ReceiveStopped, OSError):
                return
            kind = msg.header.message_type
            if kind in (MessageType.method_return, MessageType.error):
                self._reply = msg
                self._reply_event.set()
                continue
            if kind != MessageType.method_call:
                continue
            fields = msg.header.fields
            if fields.get(HeaderFields.interface) not in (NAME, None):
                if fields.get(HeaderFields.interface) == "org.freedesktop.DBus.Peer":
                    self.conn.send(new_method_return(msg))
                continue
            self.conn.send(self._answer(msg, str(fields.get(HeaderFields.member))))

    def _answer(self, msg: Any, member: str) -> Any:
        if member == "GetCapabilities":
            return new_method_return(msg, "as", (["actions", "body", "body-markup"],))
        if member == "GetServerInformation":
            return new_method_return(msg, "ssss", ("test-desktop", "dropbell", "1", "1.2"))
        if member == "Notify":
            app, replaces, _icon, summary, body, actions, _hints, _timeout = msg.body
            with self._lock:
                if replaces and replaces in self.on_screen:
                    shown = self.on_screen[replaces]
                    shown.summary, shown.body, shown.actions = summary, body, list(actions)
                    shown.replaced += 1
                    self.log.append(("replace", replaces))
                    nid = replaces
                else:
                    nid = next(self._ids)
                    self.on_screen[nid] = Shown(nid, app, summary, body, list(actions))
                    self.log.append(("notify", nid))
            return new_method_return(msg, "u", (nid,))
        if member == "CloseNotification":
            (nid,) = msg.body
            with self._lock:
                self.on_screen.pop(nid, None)
                self.log.append(("close", nid))
            emitter = DBusAddress(PATH, interface=NAME)
            self.conn.send(new_signal(emitter, "NotificationClosed", "uu", (nid, 3)))
            return new_method_return(msg)
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))
