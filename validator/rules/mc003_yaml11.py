"""A plain value that YAML 1.1 reads differently from how it looks.

PyYAML and most tools around it follow YAML 1.1: `yes`, `no`, `on`, `off` become booleans, `0465`
becomes the octal number 309, `1_000` becomes 1000 and `1:30` the sexagesimal 90. mailcfg reads the value
the same way the application will and warns, so `encryption: off` is not mistaken for a string. For
values under a password key the message does not repeat the text.

Emitted by the loader (`validator/loader.py`, `_Parser._scalar_value`).

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: ssl
        port: 0465               # read as the octal number 309
        allow_insecure: no       # a boolean, but only by YAML 1.1 rules

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: ssl
        port: 465
        allow_insecure: false
"""

from validator.finding import Severity

ID = "MC003"
SEVERITY = Severity.WARNING
TITLE = "YAML 1.1 surprise (yes/no/on/off, octal, sexagesimal, underscores)"
