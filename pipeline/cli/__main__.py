"""`python -m pipeline.cli ...`: the `vanban` command without its console script."""
import sys

from . import main

sys.exit(main())
