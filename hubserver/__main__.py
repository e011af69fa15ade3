"""``python -m hubserver``: the command line."""

import sys

from hubserver.cli import main

sys.exit(main())
