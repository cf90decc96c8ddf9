"""PySide6 widgets, panels, table models and dialogs.

With PySide6 6.12 on Python 3.11, importing this package makes ``None``, ``True`` and ``False``
immortal (see ``immortalize_singletons``), because every Qt-using module of the app lives here.
"""

from __future__ import annotations

import ctypes
import platform
import sys

# PySide6 6.12's bindings return None from void methods (``QLabel.setText``, ``QPainter.setPen``…)
# and True/False from ``Signal.emit`` without taking a reference. Python 3.12+ does not care (those
# objects are immortal there); on 3.11 every such call steals one reference, and after a few
# thousand calls the interpreter aborts with "deallocating None" (measured: the typing benchmark
# died after ~250 keystrokes). Python 3.12 solves it by giving them a huge reference count; we do
# the same. They are statically allocated and never freed, so an inflated count changes nothing else.
_HEADROOM = 1 << 40


def immortalize_singletons() -> None:
    """A no-op unless this is CPython 3.11 with an affected PySide6 (6.12; the project pins 6.11.3)."""
    import PySide6

    affected = tuple(PySide6.__version_info__[:2]) >= (6, 12)
    if not affected or platform.python_implementation() != "CPython" or sys.version_info >= (3, 12):
        return
    for obj in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the object's first field
        if refcount.value < _HEADROOM:
            refcount.value += _HEADROOM


immortalize_singletons()
