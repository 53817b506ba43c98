"""The rules: one module per rule, ``mcNNN_name.py``; each module's docstring is its documentation.

A rule module defines ``ID``, ``SEVERITY``, ``TITLE`` and, when it is checked over the account set rather
than by a stage (the loader, the schema stage, the configuration, the live checks),
``check(accounts, context) -> Iterable[Finding]``. The registry that lists them is :mod:`validator.registry`;
this package imports nothing, so importing one rule module imports no other.
"""
