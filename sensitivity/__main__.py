"""``python -m sensitivity`` -> :func:`sensitivity.cli.main`."""

import sys

from sensitivity.cli import main

sys.exit(main())
