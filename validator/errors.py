"""Exceptions the CLI turns into exit code 2: problems with how mailcfg was called, not with a config."""


class MailcfgError(Exception):
    """Root of the errors that stop a run before any finding can be made (exit code 2)."""


class UsageError(MailcfgError):
    """An option or argument that cannot be honoured."""


class PathError(MailcfgError):
    """A path on the command line that does not exist or cannot be read."""
