"""``mailcfg diff``: what a change does to the mail setup, compared by id after defaults are applied.

Both sides are canonical documents (``export.canonical``), so order, formatting and defaults written out
or left implicit make no difference. Secret references are compared and shown as written (a variable's
name, a path, a credential, a command), never a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from validator.loader import SECTIONS

_SINGULAR = {"users": "user", "smtp": "smtp", "imap": "imap"}


@dataclass(frozen=True)
class Words:
    """A change said in words: ``template`` with a ``{}`` for each of ``values`` (strings from the YAML, shown as
    code in markdown so that they cannot format the comment)."""

    template: str
    values: tuple[str, ...] = ()

    def render(self, show: Callable[[str], str] = str) -> str:
        return self.template.format(*map(show, self.values))


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    words: Words | None = None


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
        if key == "credentials" and isinstance(before, dict) and isinstance(after, dict):
            changes += _credentials(before, after, f"{prefix}{key}")
        elif isinstance(before, dict) and isinstance(after, dict) and key != "password":
            changes += _fields(before, after, f"{prefix}{key}.")
        else:
            changes.append(FieldChange(f"{prefix}{key}", before, after))
    return tuple(changes)


# The keys of `credentials` that make its login method; the others (username, contact) are compared as fields.
_METHOD_KEYS = ("password", "app_password", "oauth2")
_GRANTS = {
    "command": "command",
    "jwt-bearer": "service account",
    "refresh_token": "refresh token",
    "client_credentials": "client credentials",
}
# The oauth2 keys said in words (the secret references are shown as fields, by variable name).
_OAUTH2_WORDS = {
    "client_id": "OAuth2 client id",
    "tenant": "OAuth2 tenant",
    "token_url": "OAuth2 token endpoint",
    "subject": "service account's mailbox (subject)",
}


def _credentials(old: dict[str, Any], new: dict[str, Any], name: str) -> list[FieldChange]:
    """The changes of one `credentials`: the login method in words, then the other fields."""
    changes: list[FieldChange] = []
    before, after = _login(old), _login(new)
    if ("oauth2" in old) != ("oauth2" in new):
        changes.append(
            FieldChange(
                f"{name}.login",
                {key: old[key] for key in _METHOD_KEYS if key in old},
                {key: new[key] for key in _METHOD_KEYS if key in new},
                Words(f"login changed from {before} to {after}"),
            )
        )
    elif "oauth2" in new:
        changes += _oauth2(old["oauth2"], new["oauth2"], f"{name}.oauth2")
    else:
        if old.get("password") != new.get("password"):
            changes.append(FieldChange(f"{name}.password", old.get("password"), new.get("password")))
        if bool(old.get("app_password")) != bool(new.get("app_password")):
            said = "now declared" if new.get("app_password") else "no longer declared"
            changes.append(
                FieldChange(
                    f"{name}.app_password",
                    old.get("app_password", False),
                    new.get("app_password", False),
                    Words(f"password {said} an app password (`app_password`)"),
                )
            )
    others = [{k: v for k, v in side.items() if k not in _METHOD_KEYS} for side in (old, new)]
    return changes + list(_fields(others[0], others[1], f"{name}."))


def _login(credentials: dict[str, Any]) -> str:
    """How these credentials log in, in words: `password`, `app password`, `OAuth2 (microsoft, client credentials)`."""
    oauth2 = credentials.get("oauth2")
    if not isinstance(oauth2, dict):
        return "app password" if credentials.get("app_password") else "password"
    details = [str(oauth2.get("provider", "generic")), _GRANTS[_grant(oauth2)]]
    if oauth2.get("mechanism", "xoauth2") != "xoauth2":
        details.append(str(oauth2["mechanism"]).upper())
    return f"OAuth2 ({', '.join(details)})"


def _grant(oauth2: dict[str, Any]) -> str:
    """The grant the keys choose (as ``model.OAuth2.grant``), from a canonical document's mapping."""
    if "command" in oauth2:
        return "command"
    if "service_account" in oauth2:
        return "jwt-bearer"
    return "refresh_token" if "refresh_token" in oauth2 else "client_credentials"


def _oauth2(old: dict[str, Any], new: dict[str, Any], name: str) -> list[FieldChange]:
    """The changes of an oauth2 login that stays one, in words; secret references by variable name."""
    changes: list[FieldChange] = []
    for key, label in (("provider", "OAuth2 provider"), ("mechanism", "SASL mechanism")):
        if old.get(key) != new.get(key):
            was, now = (str(side.get(key)) for side in (old, new))
            if key == "mechanism":
                was, now = was.upper(), now.upper()
            changes.append(
                FieldChange(f"{name}.{key}", old.get(key), new.get(key), Words(f"{label} changed from {was} to {now}"))
            )
    if _grant(old) != _grant(new):
        was, now = _grant(old), _grant(new)
        changes.append(
            FieldChange(f"{name}.grant", was, now, Words(f"OAuth2 grant changed from {_GRANTS[was]} to {_GRANTS[now]}"))
        )
    for key, label in _OAUTH2_WORDS.items():
        if old.get(key) != new.get(key):
            changes.append(
                FieldChange(f"{name}.{key}", old.get(key), new.get(key), _changed(label, old.get(key), new.get(key)))
            )
    for key, label in (("scopes", "OAuth2 scopes"), ("command", "token command")):
        if old.get(key) != new.get(key):
            joined = ", " if key == "scopes" else " "
            written = [None if side.get(key) is None else joined.join(map(str, side[key])) for side in (old, new)]
            words = _changed(label, written[0], written[1], "the provider's default" if key == "scopes" else None)
            changes.append(FieldChange(f"{name}.{key}", old.get(key), new.get(key), words))
    for key in ("client_secret", "refresh_token", "service_account"):
        if old.get(key) != new.get(key):
            changes.append(FieldChange(f"{name}.{key}", old.get(key), new.get(key)))
    return changes


def _changed(label: str, was: Any, now: Any, unset: str | None = None) -> Words:
    """``label`` set, removed or changed, the values as written; ``unset`` names what a value left out means."""
    if was is None:
        template = f"{label} changed from {unset} to {{}}" if unset else f"{label} set to {{}}"
        return Words(template, (str(now),))
    if now is None:
        template = f"{label} changed from {{}} to {unset}" if unset else f"{label} removed (was {{}})"
        return Words(template, (str(was),))
    return Words(f"{label} changed from {{}} to {{}}", (str(was), str(now)))


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
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("env", "file", "credential", "command"):
        # A secret reference as written (a command like the oauth2 token command, its words joined).
        source, written = next(iter(value.items()))
        return f"{source} {' '.join(map(str, written)) if isinstance(written, list) else written}"
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
        lines += [f"  {_line(change)}" for change in entry.fields]
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
        fields = "<br>".join(_markdown_line(change) for change in entry.fields)
        lines.append(f"| {account} | {entry.kind} | {fields} |")
    if diff.effects:
        lines += ["", "**Effects on references**", ""]
        lines += [f"- {_cell(effect)}" for effect in diff.effects]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _line(change: FieldChange) -> str:
    if change.words is not None:
        return change.words.render()
    return f"{change.field}: {_show(change.old)} → {_show(change.new)}"


def _markdown_line(change: FieldChange) -> str:
    if change.words is not None:
        # The template is mailcfg's own text (escaped as a cell); the values from the YAML become code spans.
        return Words(_cell(change.words.template), change.words.values).render(_code)
    return f"{_cell(change.field)}: {_code(_show(change.old))} → {_code(_show(change.new))}"


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
                "fields": [_json_field(c) for c in entry.fields],
            }
            for entry in diff.entries
        ],
        "effects": list(diff.effects),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _json_field(change: FieldChange) -> dict[str, Any]:
    out = {"field": change.field, "old": change.old, "new": change.new}
    if change.words is not None:
        out["words"] = change.words.render()
    return out
