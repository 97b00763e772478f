"""``python -m ganlab.bench``: see ``ganlab.bench``."""

from . import main

raise SystemExit(main())
