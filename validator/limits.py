"""Numeric bounds shared by command-line options and the configuration file (a light module: no imports)."""

# Larger than any account file; beyond it a MiB count overflows the platform's file offsets.
MAX_FILE_SIZE_MIB = 16384
# An hour per check is already far past any mail server's own timeouts; the cap keeps the arithmetic finite.
MAX_TIMEOUT = 3600.0
# `verify --max-checks`: a plan larger than this stops before any connection (a sprayed password, a mass mailing).
DEFAULT_MAX_CHECKS = 200
