"""``python -m ringspec`` is the ``ringspec`` console script."""

import sys

from ringspec.cli import main

sys.exit(main())
