"""Imported first by every script: makes the hepad library in ../src importable without installing it
(per-rule conda envs don't install it; `pip install -e .` users don't need this, and it does no harm)."""

import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parents[1] / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)
