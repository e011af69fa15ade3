"""Run hubserver from a checkout: ``python hubserver.py --help``.

The code is the ``hubserver`` package beside this file, which ``import
hubserver`` finds before this file; installed, the same is ``hubserver`` or
``python -m hubserver``.
"""

import sys

from hubserver.cli import main

if __name__ == "__main__":
    sys.exit(main())
