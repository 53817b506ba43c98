"""Print the versions a virtual environment resolved for mailcfg's requirements (run with its python).

The runtime dependencies first (what a user gets), then the test tools, one `name==version` a line, so a CI
log shows what was tested. A requirement whose marker excludes this Python says so instead of a version.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata


def main() -> int:
    requirements = metadata.requires("mailcfg") or []
    groups: dict[str, list[str]] = {"runtime": [], "test": []}
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name is None:
            continue
        marker = requirement.partition(";")[2].strip()
        group = "test" if "extra ==" in marker else "runtime"
        try:
            version = metadata.version(name.group())
        except metadata.PackageNotFoundError:
            version = f"(not installed: {marker or 'missing'})"
            if group == "runtime" and not marker:
                print(f"versions: runtime dependency {name.group()} is not installed", file=sys.stderr)
                return 1
        groups[group].append(f"{name.group()}=={version}")
    print(f"mailcfg {metadata.version('mailcfg')} on Python {sys.version.split()[0]} ({sys.prefix})")
    for group, lines in groups.items():
        print(f"  {group} dependencies:")
        for line in sorted(lines, key=str.lower):
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
