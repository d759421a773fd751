"""`charter diff`: what changed in the specs between two git revisions, and what it breaks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from charter.core.cliutil import ProjectOption, console, reflow_help, state_of
from charter.core.safetext import markup
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from charter.core.diagnostics import Diagnostic
    from charter.core.specdiff import SpecDiff, View


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class DiffView(StrEnum):
    both = "both"
    consumer = "consumer"
    producer = "producer"


_DIRECTION_WORDS = {"tightens": "tightens (breaks producers)", "loosens": "loosens (breaks consumers)",
                    "incompatible": "incompatible (breaks both)", "neutral": "no guarantee changed"}


@reflow_help
def diff(
    ctx: typer.Context,
    base: Annotated[str, typer.Option("--base", "-b", help="The revision to compare from: a branch, tag or commit.")],
    head: Annotated[str | None, typer.Option("--head", help="The revision to compare to (default: the working "
                                                            "tree, uncommitted changes included).")] = None,
    view: Annotated[DiffView, typer.Option("--view", help="Whose breakage counts: `consumer` (a loosened "
                                                          "guarantee), `producer` (a tightened rule) or `both`.")
                    ] = DiffView.both,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="text for people, json for scripts, markdown "
                                                                   "for a pull-request comment.")] = DiffFormat.text,
    fail_on_breaking: Annotated[bool, typer.Option("--fail-on-breaking", help="Exit 1 when a change is breaking "
                                                                              "in the chosen view.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of stdout.",
                                                dir_okay=False, metavar="FILE")] = None,
    project_dir: ProjectOption = None,
) -> None:
    """Compare the specs at two git revisions and classify every change as breaking or not.

    The base (and a head revision) are read with `git archive` into a temporary folder: the working
    tree, the index and the current branch are never touched. On each side the datasets' schemas are
    inferred (in memory) and every metric is compiled, so a dataset SQL change shows as the columns it
    changes and a metric change as the SQL it compiles to.

    Each change tightens a guarantee (breaks producers: a rule added, a bound raised, accepted values
    narrowed), loosens it (breaks consumers: a column, metric or rule removed, a certified metric
    deprecated, a contract criterion dropped), is incompatible (breaks both: a type or primary key
    changed, a metric's SQL changed, an artifact replaced) or changes no guarantee.

    Exit 0, or 1 with --fail-on-breaking when a change breaks the chosen view; 2 on errors.

    [bold]Examples[/bold]

      charter diff --base main
      charter diff --base main --fail-on-breaking --view consumer
      charter diff --base v1.2.0 --head HEAD -f markdown -o diff.md  # PR comment
      charter diff --base HEAD~1 --format json
    """
    from charter.core.diagnostics import UsageError, error
    from charter.core.loader import find_project_root
    from charter.core.revisions import Revisions
    from charter.core.specdiff import diff_revisions

    state = state_of(ctx)
    start = project_dir or state.project_dir or Path.cwd()
    root = find_project_root(Path(start).resolve())
    if root is None:
        raise UsageError(error(f"no charter.yaml found in `{start}` or any parent folder", code="no-project",
                               hint="run it inside a project, or pass --project DIR"))
    with Revisions(root, entrypoints=state.entrypoints) as revisions:
        old = revisions.load(base, "--base")
        new = revisions.load(head, "--head")
        result = diff_revisions(old, new)
        notes = old.notes + new.notes
    chosen: View = view.value
    if fmt is DiffFormat.json:
        text = _json(result, chosen, notes)
    elif fmt is DiffFormat.markdown:
        text = render_markdown(result, chosen)
    else:
        text = None
    if text is not None:
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            from charter.core.atomicfile import atomic_write

            atomic_write(output, text)
            console().print(f"wrote {markup(output)}")
        else:
            typer.echo(text, nl=False)
    else:
        if notes:
            from charter.core.cliutil import render_diagnostics

            render_diagnostics(notes)
        render_text(result, chosen, console())
    raise typer.Exit(1 if fail_on_breaking and result.breaking(chosen) else 0)


def _json(result: SpecDiff, view: View, notes: list[Diagnostic]) -> str:
    import json

    breaking = result.breaking(view)
    data = {"base": result.base, "head": result.head, "view": view, "breaking": len(breaking),
            "changes": [c.to_dict(view) for c in result.changes], "diagnostics": [d.to_dict() for d in notes]}
    return json.dumps(data, indent=2, default=str) + "\n"


def _who(change: object, view: View) -> str:
    sides = change.breaks()  # type: ignore[attr-defined]
    if view != "both":
        return "BREAKING" if view in sides else "info"
    return "BREAKING (" + " + ".join(f"{s}s" for s in sides) + ")" if sides else "info"


def render_text(result: SpecDiff, view: View, out: Console) -> None:

    from charter.core.safetext import markup as escape  # spec text: no markup, no terminal control

    breaking = result.breaking(view)
    out.print(f"[bold]charter diff[/] {escape(result.base)} → {escape(result.head)} · view: {view} · "
              f"{len(result.changes)} change(s), [{'bold red' if breaking else 'green'}]{len(breaking)} breaking[/]")
    if not result.changes:
        out.print("no change in the specs")
        return
    from charter.core.cliutil import Column, fit_table
    from charter.core.safetext import text

    # the object's name is never wrapped; the change wraps between words, never inside one
    columns = [Column("", "fixed"), Column("object", "key"), Column("change", "wrap", min_width=20)]
    cells: list[list[RenderableType]] = []
    for c in sorted(result.changes, key=lambda c: (not c.breaking(view), c.kind, c.name)):
        style = "bold red" if c.breaking(view) else "dim"
        cells.append([text(_who(c, view), style), text(f"{c.kind} {c.name}"), text(c.message)])
    out.print(fit_table(columns, cells, width=out.width, box=None, header_style="bold", pad_edge=False,
                        show_edge=False))


def render_markdown(result: SpecDiff, view: View) -> str:
    """A pull-request comment: breaking changes first, the rest folded, SQL diffs in code blocks."""
    breaking = result.breaking(view)
    lines = [f"### Charter diff: `{result.base}` → `{result.head}`", "",
             f"**{len(breaking)} breaking** change(s) for the {view if view != 'both' else 'consumer and producer'} "
             f"view, {len(result.changes)} change(s) in all.", ""]

    def table(changes: list) -> list[str]:
        rows = ["| | Object | Change | Direction |", "|---|---|---|---|"]
        for c in changes:
            message = c.message.replace("|", "\\|")
            rows.append(f"| {'🔴' if c.breaking(view) else '⚪'} | {c.kind} `{c.name}` | {message} | "
                        f"{_DIRECTION_WORDS[c.direction]} |")
        return rows

    if breaking:
        lines += ["#### Breaking", "", *table(breaking), ""]
    rest = [c for c in result.changes if not c.breaking(view)]
    if rest:
        lines += [f"<details><summary>{len(rest)} other change(s)</summary>", "", *table(rest), "", "</details>", ""]
    for c in result.changes:
        if c.detail:
            lines += [f"<details><summary>{c.kind} <code>{c.name}</code>: {c.message}</summary>", "", "```diff",
                      c.detail, "```", "", "</details>", ""]
    if not result.changes:
        lines.append("No change in the specs.")
    return "\n".join(lines) + "\n"


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.command("diff", rich_help_panel="Contracts")(diff)
