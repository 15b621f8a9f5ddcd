"""``python -m ringspec.docgen`` is ``ringspec docs``."""

import sys

from ringspec.docgen import main

sys.exit(main())
