"""Regenerate schema/accounts.schema.json from the pydantic models (validator/model.py).

Usage: python scripts/generate_schema.py            # rewrite the file
       python scripts/generate_schema.py --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from validator.model import json_schema, schema_json

TARGET = Path(__file__).resolve().parent.parent / "schema" / "accounts.schema.json"


def main() -> int:
    text = schema_json(json_schema())
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/generate_schema.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
