"""reception: a bot in front of an online shop's customer service, humans behind it.

The public API: `create_app`, the `hookimpl` marker for plugins, and the
models and events plugins see.
"""

__version__ = "0.1.0"

from . import events, models  # noqa: E402
from .app import create_app  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402

__all__ = ["__version__", "create_app", "events", "hookimpl", "models"]
