"""``python -m reception.faq.evaluate``."""

import sys

from .cli import main

sys.exit(main())
