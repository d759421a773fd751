"""The `csv-dataset` importer: describe a CSV file as a dataset spec, classifying personal data.

    charter import csv-dataset data/customers.csv --into specs/datasets

writes `specs/datasets/customers.yaml` with a dataset reading the file, one documented column per
header field, and the tags `pii` and `pii.email`/`pii.phone`/`pii.card` on every column in which a
value holds that kind of personal data (the detectors of the `no_untagged_pii` rule, run in Python
on every row). A column named `id` or `*_id` whose values are all present and distinct becomes the
primary key. What cannot be described — nameless or duplicate header fields, rows with the wrong
number of fields — is reported, never dropped silently.

Options (`--option KEY=VALUE`): `name` (the dataset's name; default: the file's stem), `overwrite`
(`true` to replace an existing spec file), `max_rows` (scan only the first N rows for personal data).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import yaml

from charter.plugin_api import ImportReport, UsageError, error
from charter_example_plugin.detectors import KINDS, TAGS, detect

_NAME = re.compile(r"[^A-Za-z0-9_]+")


class CsvDatasetImporter:
    name = "csv-dataset"
    description = "a dataset spec for a CSV file, with the columns holding personal data tagged pii.*"

    def import_(self, source: Path, project_root: Path, options: dict[str, Any]) -> ImportReport:
        root = project_root.resolve()
        source = source.resolve()
        if source.is_dir() or not source.is_relative_to(root):
            raise UsageError(error(f"`{source}` is not a file inside the project", code="csv-outside-project",
                                   hint="copy the file under the project (e.g. data/) and import that"))
        dataset = dataset_name(str(options.get("name") or source.stem))
        target = Path(options.get("into") or root) / f"{dataset}.yaml"
        if target.exists() and options.get("overwrite") is not True:
            raise UsageError(error(f"`{target}` already exists", code="import-exists",
                                   hint="pass --option overwrite=true to replace it, or --option name=OTHER"))
        limit = options.get("max_rows")
        scan = scan_csv(source, limit if isinstance(limit, int) and limit > 0 else None)
        spec: dict[str, Any] = {"name": dataset, "source": {"path": source.relative_to(root).as_posix()}}
        if scan.delimiter != ",":
            spec["source"]["options"] = {"delim": scan.delimiter}
        if scan.key:
            spec["primary_key"] = [scan.key]
        spec["columns"] = [{"name": col, "tags": ["pii", *(TAGS[k] for k in KINDS if k in kinds)]} if kinds
                           else {"name": col} for col, kinds in scan.columns.items()]
        header = (f"# Imported from {source.relative_to(root).as_posix()} by `charter import csv-dataset` "
                  f"({scan.rows} rows scanned).\n"
                  "# Describe the dataset and its columns; check the pii tags.\n")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + yaml.safe_dump({"datasets": [spec]}, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")
        return ImportReport(written=[target], untranslated=scan.problems)


def dataset_name(text: str) -> str:
    """A valid dataset name from a file name.

    >>> dataset_name("Customer list (2024).csv")
    'customer_list_2024_csv'
    """
    name = _NAME.sub("_", text).strip("_").lower() or "dataset"
    return name if name[0].isalpha() else f"t_{name}"


class Scan:
    """What reading the file found."""

    def __init__(self) -> None:
        self.delimiter = ","
        self.rows = 0
        self.columns: dict[str, set[str]] = {}
        self.key: str | None = None
        self.problems: list[str] = []


def scan_csv(path: Path, limit: int | None) -> Scan:
    scan = Scan()
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        handle.seek(0)
        # the header's most frequent candidate (csv.Sniffer guesses wrong on files with ragged rows)
        scan.delimiter = max(",;\t|", key=lambda d: (first.count(d), d == ","))
        reader = csv.reader(handle, delimiter=scan.delimiter)
        header = next(reader, None)
        if header is None:
            scan.problems.append("the file is empty: no header row, no columns")
            return scan
        keep: list[tuple[int, str]] = []
        for index, raw in enumerate(header):
            name = raw.strip()
            if not name:
                scan.problems.append(f"header field {index + 1} has no name: the column is not described")
            elif name in scan.columns:
                scan.problems.append(f"header field {index + 1} repeats the name `{name}`: only the first is "
                                     "described")
            else:
                scan.columns[name] = set()
                keep.append((index, name))
        candidates = {name: set() for _, name in keep if name.lower() == "id" or name.lower().endswith("_id")}
        ragged, first_ragged = 0, 0
        for row in reader:
            if limit is not None and scan.rows >= limit:
                break
            scan.rows += 1
            if len(row) != len(header):
                ragged += 1
                first_ragged = first_ragged or reader.line_num
            for index, name in keep:
                value = row[index] if index < len(row) else ""
                if value:
                    missing = tuple(k for k in KINDS if k not in scan.columns[name])
                    scan.columns[name] |= detect(value, missing)
                if name in candidates:
                    seen = candidates[name]
                    if not value or value in seen:
                        del candidates[name]
                    else:
                        seen.add(value)
        if ragged:
            scan.problems.append(f"{ragged} row(s) have a different number of fields than the header "
                                 f"(first at line {first_ragged}): check the delimiter and quoting")
        scan.key = next((name for _, name in keep if name in candidates and scan.rows), None)
    return scan
