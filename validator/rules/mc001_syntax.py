"""The file is not readable as UTF-8 YAML.

mailcfg reports the parser's own position (line and column) and message. The rest of the file is not
checked, and rules that conclude from something being absent (MC201, MC203, MC206) stay quiet for the
whole run, because the unreadable part may hold what they would miss.

Also reported here: a file that is not UTF-8 (the byte and its position are given), an alias to an
anchor that is not defined before it, and a mapping used as a key. A file holding a NUL byte is binary,
not text: it is reported at line 1 and none of its content is shown, not even in a source line, since
binary data may be anything (a process's environment, say).

Emitted by the loader (`validator/loader.py`, `load_bytes`, `_binary`, `_Parser._parse`, `_Parser._events`,
`_Parser._merge`, `_Parser._scalar_value`).

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
       encryption: starttls      # indentation breaks the mapping

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC001"
SEVERITY = Severity.ERROR
TITLE = "file is not readable as UTF-8 YAML"
