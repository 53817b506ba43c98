"""Readers for the monitoring reports, for the tests: the Prometheus text through prometheus_client's own parser,
and the Nagios plugin output checked against the plugin guidelines' grammar as it is read.

Nagios Plugin Development Guidelines, "Plugin Output": the first line is ``TEXT | PERFDATA``; perfdata is
space-separated ``'label'=value[UOM];[warn];[crit];[min];[max]``: a label with spaces is quoted, a quote in it
doubled, no ``=``; value and min/max are numbers, warn and crit ranges (``10``, ``10:``, ``~:10``, ``10:20``,
``@10:20``); UOM one of s, us, ms, %, B, KB, MB, TB, c, or none; trailing empty fields may be left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
RANGE = rf"@?(?:(?:{NUMBER}|~):)?(?:{NUMBER})?|@?{NUMBER}:"
UOM = r"(?:s|us|ms|%|B|KB|MB|TB|c)?"
LABEL = r"'(?:[^'=]|'')+'|[^'= ]+"
PERFDATUM = re.compile(
    rf"(?P<label>{LABEL})=(?P<value>{NUMBER})(?P<uom>{UOM})"
    rf"(?:;(?P<warn>{RANGE})?(?:;(?P<crit>{RANGE})?(?:;(?P<min>{NUMBER})?(?:;(?P<max>{NUMBER})?)?)?)?)?"
)
FIRST_LINE = re.compile(r"MAILCFG (?P<state>OK|WARNING|CRITICAL|UNKNOWN) - (?P<text>[^|]+?)(?: \| (?P<perf>.*))?")
STATES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


@dataclass(frozen=True)
class Perfdatum:
    value: float
    uom: str
    warn: str
    crit: str
    minimum: str
    maximum: str


@dataclass(frozen=True)
class PluginOutput:
    state: str
    text: str
    perfdata: dict[str, Perfdatum]
    details: list[str]

    @property
    def code(self) -> int:
        """The exit code the plugin convention gives this state."""
        return STATES[self.state]


def read_plugin_output(output: str) -> PluginOutput:
    """The plugin output ``output``, asserted to follow the guidelines: one status line, valid perfdata, and no `|`
    after the first line's separator (a monitoring system would cut the text there)."""
    assert output.endswith("\n"), output
    first, *details = output[:-1].split("\n")
    match = FIRST_LINE.fullmatch(first)
    assert match, first
    perfdata: dict[str, Perfdatum] = {}
    # Items are separated by spaces; a quoted label may hold spaces itself.
    items = re.findall(rf"(?:{LABEL})=\S+", match["perf"] or "")
    assert " ".join(items) == (match["perf"] or ""), first
    for item in items:
        datum = PERFDATUM.fullmatch(item)
        assert datum, (item, first)
        label = datum["label"]
        name = label[1:-1].replace("''", "'") if label.startswith("'") else label
        assert name not in perfdata, (name, first)
        perfdata[name] = Perfdatum(
            float(datum["value"]), datum["uom"], datum["warn"] or "", datum["crit"] or "", datum["min"] or "",
            datum["max"] or "",
        )
    for line in details:
        assert "|" not in line, line
        assert line.strip(), output
    return PluginOutput(match["state"], match["text"], perfdata, details)


def prometheus_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Each metric family of a Prometheus text exposition, by name: (labels, value) per sample, read by
    prometheus_client's parser; every family a gauge with its HELP."""
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.name not in families, family.name
        assert family.type == "gauge", family
        assert family.documentation, family
        families[family.name] = [(dict(sample.labels), sample.value) for sample in family.samples]
    return families


def exit_code_for(fmt: str, code: int) -> int:
    """The exit code of a run that gives mailcfg's ``code`` when ``fmt`` is the report on standard output: with
    nagios there, the plugin's (findings that fail the run: 2 CRITICAL; a usage or internal error, Ctrl-C: 3
    UNKNOWN). A clean run stays 0 only without warnings (else 1 WARNING): tests of clean runs pass --strict."""
    if fmt != "nagios":
        return code
    return {0: 0, 1: 2, 3: 2, 2: 3, 70: 3, 130: 3}[code]
