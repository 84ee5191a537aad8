"""The reliability suite: long seeded runs of the real engine against the real sandbox over HTTP on 127.0.0.1.

The helpers live in reliability_kit.py (not a conftest, so tests import them by name; the folder has no
__init__.py and pytest's default "prepend" import mode puts it on sys.path).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
