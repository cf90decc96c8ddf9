"""Entry script of the PyInstaller build: the same ``main`` as the ``kling-studio`` command."""

import multiprocessing
import sys

from kling_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
