"""``python -m tools.labkit`` (what ``tools/lab`` runs)."""

import sys

from .cli import main

sys.exit(main())
