"""A value of the wrong type.

A port is an integer, `allow_insecure` is true or false, sections are lists and entries are mappings.
A quoted number (`port: "587"`) gets a hint to drop the quotes. `credentials` that are not a mapping
(`credentials: "info:secret"`) are reported without describing the value, which is masked in the source
line shown.

Emitted by the schema stage (`validator/schema.py`, `_findings`).

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
        port: "587"

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
        port: 587
"""

from validator.finding import Severity

ID = "MC103"
SEVERITY = Severity.ERROR
TITLE = "wrong type"
