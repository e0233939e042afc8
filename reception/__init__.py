"""reception: a bot in front of an online shop's customer service, humans behind it.

The public API: `create_app`, the `hookimpl` marker for plugins, and the
models and events plugins see.
"""

from . import events, models
from .app import create_app
from .hookspecs import hookimpl
from .version import __version__

__all__ = ["__version__", "create_app", "events", "hookimpl", "models"]
