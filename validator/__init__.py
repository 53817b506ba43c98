"""mailcfg: e-mail account configuration as code (import package ``validator``)."""

__version__ = "0.1.0"
