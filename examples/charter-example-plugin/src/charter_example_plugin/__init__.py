"""charter-example-plugin: personal-data checks, a Markdown data dictionary and a run audit log.

A third-party Charter plugin, written only against ``charter.plugin_api`` and discovered through the
``charter`` entry-point group (see ``pyproject.toml``). It contributes:

- the rule type ``no_untagged_pii``: no e-mail address, phone number or card number in columns
  that are not tagged as personal data (``rules.py``);
- the source type ``masked``: another dataset with some columns hashed or redacted (``masking.py``);
- the exporter ``data-dictionary``: a Markdown data dictionary of the project (``dictionary.py``);
- the importer ``csv-dataset``: a dataset spec for a CSV file, personal-data columns tagged
  (``csv_import.py``);
- run hooks writing an append-only JSON-lines audit log, ``.charter/audit.jsonl``, and the command
  ``charter audit`` that reads it (``audit.py``).

Every hook imports its module when it is called, so that installing the plugin does not slow down
``charter --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    import typer

    from charter.plugin_api import CheckResult, RunInfo, RunSummary

__version__ = "0.1.0"

CHARTER_API_VERSION = 1
"""The Charter plugin API version this plugin is written against; Charter refuses to load it otherwise."""


@hookimpl
def charter_rule_types() -> list[Any]:
    from charter_example_plugin.rules import NoUntaggedPii

    return [NoUntaggedPii]


@hookimpl
def charter_source_types() -> list[Any]:
    from charter_example_plugin.masking import MaskedSource

    return [MaskedSource]


@hookimpl
def charter_exporters() -> list[Any]:
    from charter_example_plugin.dictionary import DataDictionaryExporter

    return [DataDictionaryExporter()]


@hookimpl
def charter_importers() -> list[Any]:
    from charter_example_plugin.csv_import import CsvDatasetImporter

    return [CsvDatasetImporter()]


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    from charter_example_plugin.audit import audit_command

    cli.command("audit", rich_help_panel="Plugins")(audit_command)


@hookimpl
def charter_run_started(run: RunInfo) -> None:
    from charter_example_plugin.audit import log_run_started

    log_run_started(run)


@hookimpl
def charter_check_finished(run: RunInfo, result: CheckResult) -> None:
    from charter_example_plugin.audit import log_check_failed

    if result.failed:
        log_check_failed(run, result)


@hookimpl
def charter_run_finished(run: RunInfo, summary: RunSummary) -> None:
    from charter_example_plugin.audit import log_run_finished

    log_run_finished(run, summary)
