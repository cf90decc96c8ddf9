"""One window per data folder: a second ``kling-studio FILE`` hands FILE to the running window.

The running window listens on a ``QLocalServer`` whose name is derived from the data folder (and
the user), so two folders (``KLING_STUDIO_HOME``) are two independent studios. A message is one
line of JSON, ``{"open": "/abs/path.kling.json"}`` or ``{"open": null}`` (just come forward), and
the window answers ``ok``. Only the ``QtNetwork`` module is needed on the sending side, so a hand-
over costs no widgets and no event loop.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from kling_studio.ui.instance_name import server_name as server_name  # start-up reads it without QtNetwork

log = logging.getLogger("kling_studio.instance")

MAX_MESSAGE = 64 * 1024  # a path, not a file: anything longer is not ours


def hand_over(name: str, file: str | None, timeout_ms: int = 3000) -> bool:
    """Ask the window listening on ``name`` to open ``file`` (or come forward); True if it said ok."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    try:
        target = str(Path(file).resolve()) if file else None
        socket.write(json.dumps({"open": target}).encode("utf-8") + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        answer = b""
        while b"\n" not in answer and socket.waitForReadyRead(timeout_ms):
            answer += bytes(socket.readAll().data())
        return answer.strip() == b"ok"
    finally:
        socket.disconnectFromServer()


class InstanceServer(QObject):
    """Listens for other instances; ``open_requested(path)`` ("" = just come to the front)."""

    open_requested = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Start listening. A socket file left by a crashed window is removed first: the caller
        has just failed to reach any window on this name, so nothing live answers there."""
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            log.warning("cannot listen for other instances on %s: %s", self.name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if socket is None:
                break
            self._buffers[socket] = b""
            socket.readyRead.connect(self._on_ready)
            socket.disconnected.connect(self._forget)

    def _forget(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._buffers.pop(socket, None)
            socket.deleteLater()

    def _on_ready(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if b"\n" not in data:
            if len(data) > MAX_MESSAGE:
                socket.abort()
            else:
                self._buffers[socket] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[socket] = b""
        try:
            message = json.loads(line.decode("utf-8"))
            target = message.get("open") if isinstance(message, dict) else None
        except (ValueError, UnicodeDecodeError):
            socket.write(b"error\n")
            socket.flush()
            return
        socket.write(b"ok\n")
        socket.flush()
        self.open_requested.emit(target if isinstance(target, str) else "")
