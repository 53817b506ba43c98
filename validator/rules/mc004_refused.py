"""Input refused as unsafe or too large.

mailcfg runs on pull requests from people it does not know, so it refuses input built to exhaust it
before doing any work on it: files over the size limit (32 MiB by default, `--max-file-size` raises it),
nesting deeper than 64 levels, aliases that would expand to more nodes than the document holds (the
"billion laughs" alias bomb), and YAML tags other than the standard scalar ones (`!!python/object` and
friends). The finding states the limit that was hit.

It also refuses, without opening them, files a pull request could use to put the machine's own files
into the report: a symlink (to a file or a directory) whose target leaves the checked tree (a path named
on the command line, or the configuration file's folder for its `paths`), anything that is not a regular
file (FIFO, socket, device) and anything under /proc, /sys or /dev, where files claim to be regular
(`/proc/self/environ` holds the job's secrets). The finding is at line 1 of the link or file; the
target is not shown.

Emitted by the loader (`validator/loader.py`, `_refused`, `_refused_size`, `_Parser._parse`, `_Parser._events`,
`_Parser._add`, `_unsupported_tag`).

Fails:

    a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    # ... and so on: a few hundred bytes that expand to billions of nodes

Passes:

    version: 1
    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC004"
SEVERITY = Severity.ERROR
TITLE = "input refused as unsafe or too large"
