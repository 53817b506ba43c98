"""``mailcfg diff``: what a change does to the mail setup, compared by id after defaults are applied.

Both sides are canonical documents (``export.canonical``), so order, formatting and defaults written out
or left implicit make no difference. Secret references are compared and shown by variable name only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from validator.loader import SECTIONS

_SINGULAR = {"users": "user", "smtp": "smtp", "imap": "imap"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EntryChange:
    """One account added, removed, changed or renamed (a rename may carry field changes too)."""

    section: str
    id: str
    kind: str
    old_id: str | None = None
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Diff:
    entries: tuple[EntryChange, ...] = ()
    effects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.entries)

    def counts(self) -> dict[str, int]:
        return {
            kind: sum(1 for e in self.entries if e.kind == kind) for kind in ("added", "removed", "changed", "renamed")
        }


def compare(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    """The difference between two canonical documents."""
    entries: list[EntryChange] = []
    renames: dict[str, str] = {}
    for section in SECTIONS:
        before = {item["id"]: item for item in old.get(section, [])}
        after = {item["id"]: item for item in new.get(section, [])}
        removed = [key for key in before if key not in after]
        added = [key for key in after if key not in before]
        for old_id, new_id in _renames(section, before, after, removed, added):
            removed.remove(old_id)
            added.remove(new_id)
            renames[f"{section}:{old_id}"] = new_id
            entries.append(EntryChange(section, new_id, "renamed", old_id, _fields(before[old_id], after[new_id])))
        entries += [EntryChange(section, key, "removed") for key in removed]
        entries += [EntryChange(section, key, "added") for key in added]
        for key in before.keys() & after.keys():
            changes = _fields(before[key], after[key])
            if changes:
                entries.append(EntryChange(section, key, "changed", fields=changes))
    order = {section: index for index, section in enumerate(SECTIONS)}
    entries.sort(key=lambda e: (order[e.section], e.id, e.kind))
    return Diff(tuple(entries), tuple(_effects(old, new, renames)))


def _renames(
    section: str, before: dict[str, Any], after: dict[str, Any], removed: list[str], added: list[str]
) -> list[tuple[str, str]]:
    """Pairs (old id, new id) that are the same account under a new id."""
    pairs: list[tuple[str, str]] = []
    free = list(added)
    for old_id in removed:
        match = next((new_id for new_id in free if _same(section, before[old_id], after[new_id])), None)
        if match is not None:
            pairs.append((old_id, match))
            free.remove(match)
    return pairs


def _same(section: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    if {k: v for k, v in old.items() if k != "id"} == {k: v for k, v in new.items() if k != "id"}:
        return True
    if section == "imap":  # the same mailbox
        return bool(old.get("address", "").lower() == new.get("address", "").lower())
    if section == "smtp":  # the same server and login
        return (old.get("host"), old.get("port"), _user(old)) == (new.get("host"), new.get("port"), _user(new))
    return False


def _user(entry: dict[str, Any]) -> Any:
    return (entry.get("credentials") or {}).get("username")


def _fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> tuple[FieldChange, ...]:
    changes: list[FieldChange] = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key == "id" and not prefix:
            continue
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict) and key != "password":
            changes += _fields(before, after, f"{prefix}{key}.")
        else:
            changes.append(FieldChange(f"{prefix}{key}", before, after))
    return tuple(changes)


def _effects(old: dict[str, Any], new: dict[str, Any], renames: dict[str, str]) -> list[str]:
    """Which imap accounts now send through a different server."""
    old_smtp = {item["id"]: item for item in old.get("smtp", [])}
    new_smtp = {item["id"]: item for item in new.get("smtp", [])}
    old_imap = {renames.get(f"imap:{item['id']}", item["id"]): item for item in old.get("imap", [])}
    out = []
    for imap in new.get("imap", []):
        before = old_imap.get(imap["id"])
        if before is None:
            continue
        was, now = old_smtp.get(before["outgoing"]), new_smtp.get(imap["outgoing"])
        same_entry = renames.get(f"smtp:{before['outgoing']}", before["outgoing"]) == imap["outgoing"]
        if _endpoint(was) != _endpoint(now) and same_entry:
            out.append(
                f"imap '{imap['id']}' sends through '{imap['outgoing']}', which moves from {_endpoint(was)} "
                f"to {_endpoint(now)}"
            )
        elif _endpoint(was) != _endpoint(now):
            out.append(
                f"imap '{imap['id']}' now sends through '{imap['outgoing']}' ({_endpoint(now)}) "
                f"instead of '{before['outgoing']}' ({_endpoint(was)})"
            )
        elif not same_entry:
            out.append(
                f"imap '{imap['id']}' sends through '{imap['outgoing']}' instead of '{before['outgoing']}' "
                f"(the same server, {_endpoint(now)})"
            )
    return out


def _endpoint(smtp: dict[str, Any] | None) -> str:
    if smtp is None:
        return "no smtp entry"
    return f"{smtp['host']}:{smtp['port']} {smtp['encryption']}"


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, dict) and set(value) == {"env"}:
        return f"env {value['env']}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _summary(diff: Diff) -> str:
    if not diff.changed:
        return "no changes to the account set"
    counts = diff.counts()
    parts = [f"{count} {kind}" for kind, count in counts.items() if count]
    return f"{len(diff.entries)} account{'s' if len(diff.entries) != 1 else ''} changed: {', '.join(parts)}"


def _title(entry: EntryChange) -> str:
    name = f"{_SINGULAR[entry.section]} {entry.id}"
    if entry.kind == "renamed":
        return f"{_SINGULAR[entry.section]} {entry.old_id} → {entry.id}: renamed"
    return f"{name}: {entry.kind}"


def render_text(diff: Diff) -> str:
    lines: list[str] = []
    for entry in diff.entries:
        lines.append(_title(entry))
        lines += [f"  {change.field}: {_show(change.old)} → {_show(change.new)}" for change in entry.fields]
    if diff.effects:
        lines.append("effects on references:")
        lines += [f"  {effect}" for effect in diff.effects]
    lines.append(_summary(diff))
    return "\n".join(lines) + "\n"


def render_markdown(diff: Diff) -> str:
    """Ready to post as a pull-request comment: a summary line and the details folded away."""
    lines = [f"**mailcfg diff**: {_summary(diff)}"]
    if not diff.changed:
        return lines[0] + "\n"
    lines += ["", "<details><summary>Details</summary>", "", "| account | change | fields |", "|---|---|---|"]
    for entry in diff.entries:
        account = f"{_SINGULAR[entry.section]} `{entry.id}`"
        if entry.kind == "renamed":
            account = f"{_SINGULAR[entry.section]} `{entry.old_id}` → `{entry.id}`"
        fields = "<br>".join(
            f"{_cell(change.field)}: {_code(_show(change.old))} → {_code(_show(change.new))}" for change in entry.fields
        )
        lines.append(f"| {account} | {entry.kind} | {fields} |")
    if diff.effects:
        lines += ["", "**Effects on references**", ""]
        lines += [f"- {_cell(effect)}" for effect in diff.effects]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _code(text: str) -> str:
    """A code span in a table cell. Entities are not decoded in code spans, so only ``|`` is escaped there."""
    text = text.replace("|", "\\|").replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_json(diff: Diff) -> str:
    document = {
        "changed": diff.changed,
        "summary": diff.counts(),
        "entries": [
            {
                "section": entry.section,
                "id": entry.id,
                "kind": entry.kind,
                "old_id": entry.old_id,
                "fields": [{"field": c.field, "old": c.old, "new": c.new} for c in entry.fields],
            }
            for entry in diff.entries
        ],
        "effects": list(diff.effects),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
