"""``python -m bench``: see ``bench.run`` and docs/performance.md."""

import sys

from bench.run import main

sys.exit(main())
