"""The sentence encoder's own process (``python -m reception.faq.encoder_child``): see `encoder_process`."""

from __future__ import annotations

import os
import sys

from .encoder_process import serve
from .semantic import Encoder


def main() -> None:
    # the answers go to a copy of stdout; whatever else writes to stdout (the model's libraries) goes to stderr
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(sys.stdin.buffer, answers, Encoder(cache_size=0)._encode)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
