"""The file is not readable as UTF-8 YAML.

mailcfg reports the parser's own position (line and column) and message. The rest of the file is not
checked, and rules that conclude from something being absent (MC201, MC203, MC206) stay quiet for the
whole run, because the unreadable part may hold what they would miss.

Also reported here: a file that is not UTF-8 (the byte and its position are given), an alias to an
anchor that is not defined before it, and a mapping used as a key.

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
