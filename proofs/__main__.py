"""``python -m proofs`` is ``ringspec prove``."""

import sys

from proofs.runner import main

sys.exit(main())
