"""Allow ``python -m kling_studio``."""

import sys

from kling_studio.cli import main

sys.exit(main())
