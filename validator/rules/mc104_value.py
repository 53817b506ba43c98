"""A value that is not allowed: not one of the listed choices, not matching a pattern, out of range.

`encryption` is one of `none`, `starttls`, `ssl`. Another spelling gets "did you mean": `SSL` is `ssl`,
`Ohne` (the application's dialog) is `none`; `TLS` is `starttls` with port 587, 143 or 25 and `ssl` with port
465 or 993. Without such a port `tls` is ambiguous and the hint explains both: STARTTLS upgrades a plain
connection, `ssl` is TLS from the first byte. Ids are 1-63 lower-case letters, digits, `-` and `_`. Ports
are 1-65535. Environment variable names are letters, digits and `_`.

No string may hold a control character: C0 (tab and line breaks included), DEL, C1, the Unicode line and
paragraph separators (U+2028, U+2029) or a bidirectional mark or override (U+200E, U+200F, U+202A-U+202E,
U+2066-U+2069). A YAML file may come from a pull request nobody has read yet, and its strings travel into
SMTP and IMAP commands (where a line break ends a command and starts another), terminals (where an escape
sequence rewrites what is shown) and CI logs (where a line starting with `::` is a workflow command). The
finding names the character by its code point and never repeats the value.

Emitted by the schema stage (`validator/schema.py`, `_findings`, `_pattern_findings`); a value the schema passes
but the model refuses is reported here too (`validator/accounts.py`, `_refused`).

Fails:

    smtp:
      - id: Outgoing Server
        host: smtp.example.com
        encryption: tls

Fails too (the folder name holds a carriage return and a line feed):

    imap:
      - id: info
        sent_folder: "Sent\\r\\n::error file=x::pwned"

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC104"
SEVERITY = Severity.ERROR
TITLE = "value not allowed (choice, pattern, range)"
