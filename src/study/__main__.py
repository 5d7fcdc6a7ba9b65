"""``python -m study``: the ``study`` command (what ``accelerate launch -m study ...`` runs)."""

import sys

from study.cli import main

sys.exit(main())
