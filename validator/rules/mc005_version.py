"""A document lacks `version`, or names a version this mailcfg does not read.

Every document of an account set starts with `version: 1`, so that a future format can change without
old files being misread. An empty file is reported here too: it holds no document at all.

Emitted by the loader for a file without a document (`validator/loader.py`, `load_bytes`) and by the schema
stage for a document (`validator/schema.py`, `_findings`).

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls

Passes:

    version: 1
    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC005"
SEVERITY = Severity.ERROR
TITLE = "missing or unsupported `version`"
