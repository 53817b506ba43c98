"""The configuration file has a problem.

`.mailcfg.yaml` or `[tool.mailcfg]` in `pyproject.toml` is read like any other input: an unknown key, a
wrong type, a rule id that does not exist or a YAML/TOML syntax error is reported where it is, with a
did-you-mean for keys. The setting at fault is left out; the rest of the configuration still applies.

A `paths` entry must stay inside the configuration file's folder: an absolute path, one that climbs out
with `..`, or one leading out through a symlink is reported at the entry and not read (in a pull-request
check the file comes from the pull request, and such a path could show any file of the machine).

Emitted by the configuration reader (`validator/config.py`, `replace_rule`, `_from_toml`, `_build`, `_convert`,
`_paths`); the warning that the configuration suppresses plaintext secrets (MC301) comes from the
suppression layer (`validator/suppress.py`, `_reported_secrets`).

Fails:

    # .mailcfg.yaml
    ignroe: [MC305]

Passes:

    # .mailcfg.yaml
    ignore: [MC305]
"""

from validator.finding import Severity

ID = "MC006"
SEVERITY = Severity.ERROR
TITLE = "invalid configuration file"
