"""``python -m kbind``: the same as the ``kbind`` command."""

import sys

from kbind.cli import main

sys.exit(main())
