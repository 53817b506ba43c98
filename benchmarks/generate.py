"""Generate account sets of any size and shape for benchmarks.

    python benchmarks/generate.py OUT --accounts 10000 --layout single|per-user [--errors 0.0]

``single``: one file with every account; ``per-user``: one file per user (with its users entry and imap
account) plus ``smtp.yaml`` with the shared outgoing server. ``--errors`` makes that share of accounts
wrong (a mistyped ``outgoing``, a plaintext password, a port that contradicts the encryption, in turn).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SMTP = """\
smtp:
  - id: outgoing
    host: smtp.example.com
    port: 587
    encryption: starttls
    test_recipient: it@example.com
    credentials:
      username: mailer@example.com
      password: {env: SMTP_PASSWORD}
      contact: IT desk
"""


def account(index: int, broken: int | None) -> str:
    outgoing = "outgoin" if broken == 0 else "outgoing"
    password = "Sommer2024" if broken == 1 else f"{{env: IMAP_USER{index}_PASSWORD}}"
    port = "    port: 143\n" if broken == 2 else ""
    return (
        f"  - id: user{index}-mail\n"
        f"    scope: user\n"
        f"    user: user{index}\n"
        f"    address: user{index}@example.com\n"
        f"    host: imap.example.com\n"
        f"{port}"
        f"    encryption: ssl\n"
        f"    outgoing: {outgoing}\n"
        f"    credentials:\n"
        f"      username: user{index}@example.com\n"
        f"      password: {password}\n"
        f"      contact: user {index}\n"
    )


def user(index: int) -> str:
    return f"  - id: user{index}\n    name: User {index}\n"


def generate(out: Path, accounts: int, layout: str, errors: float, seed: int = 1) -> list[Path]:
    """Write the set under ``out``; returns the paths to check (the file, or the directory)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    broken = [(i % 3 if rng.random() < errors else None) for i in range(accounts)]
    if layout == "single":
        path = out / "accounts.yaml"
        with path.open("w", encoding="utf-8") as stream:
            stream.write("version: 1\nusers:\n")
            stream.writelines(user(i) for i in range(accounts))
            stream.write(SMTP + "imap:\n")
            stream.writelines(account(i, broken[i]) for i in range(accounts))
        return [path]
    (out / "smtp.yaml").write_text("version: 1\n" + SMTP, encoding="utf-8")
    users = out / "users"
    users.mkdir(exist_ok=True)
    for i in range(accounts):
        (users / f"user{i}.yaml").write_text(
            "version: 1\nusers:\n" + user(i) + "imap:\n" + account(i, broken[i]), encoding="utf-8"
        )
    return [out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--layout", choices=("single", "per-user"), default="single")
    parser.add_argument("--errors", type=float, default=0.0)
    args = parser.parse_args()
    for path in generate(args.out, args.accounts, args.layout, args.errors):
        print(path)


if __name__ == "__main__":
    main()
