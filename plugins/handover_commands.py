"""`charter handover verify` and `charter handover sign`: judge a handover contract, and sign it off."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from charter.core.cliutil import FormatOption, OutputFormat, ProjectOption, console, load, print_json, state_of
from charter.core.safetext import markup
from charter.plugin_api import hookimpl

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from charter.core.diagnostics import Diagnostic
    from charter.core.handover.verify import Verification

handover_app = typer.Typer(help="Handover contracts: verify them, sign them off, report on them.",
                           no_args_is_help=True, rich_markup_mode="rich")

ContractArgument = Annotated[str, typer.Argument(metavar="CONTRACT", help="Name of the contract.")]
EngineOption = Annotated[str | None, typer.Option("--engine", "-e", help="Engine plugin to run on (default: the "
                                                                          "project's `warehouse.engine`).")]


class Role(StrEnum):
    from_ = "from"
    to = "to"


_STYLE = {"pass": "green", "fail": "bold red", "error": "bold magenta", "unverified": "yellow"}
_WORD = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "unverified": "NOT VERIFIED"}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    from charter.core.atomicfile import atomic_write

    atomic_write(path, text)  # a full disk leaves the previous report intact


@handover_app.command("verify")
def verify(
    ctx: typer.Context,
    name: ContractArgument,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the report as Markdown to FILE.",
                                                  dir_okay=False, metavar="FILE")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report as a self-contained HTML page "
                                                             "to FILE.", dir_okay=False, metavar="FILE")] = None,
    engine: EngineOption = None,
    catalog: Annotated[bool, typer.Option("--catalog/--no-catalog", help="Record the verdict and the sign-offs "
                                                                         "in the catalog.")] = True,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Evaluate every acceptance criterion of a contract, and every guarantee of its deliverables.

    Metrics are recomputed from the data (or taken as stated, for `claim: self_reported`), quality suites
    run as one recorded run, the environment is compared with its lock, artifacts are hashed, values are
    read from JSON artifacts, a model's example is replayed when a loader for its format exists, and the
    guaranteed schemas are checked. The report shows the verdict, each criterion's observed value and
    threshold, the evidence (run id, data fingerprints, the coverage hash) and each sign-off as valid or
    STALE with what changed since.

    Exit 0 when accepted, 1 when rejected, 2 on spec or usage errors.

    [bold]Examples[/bold]

      charter handover verify flights_handover
      charter handover verify delay_model_handover --html handover.html --markdown handover.md
      charter handover verify flights_handover --format json > verdict.json
    """
    from charter.core.handover.record import record_verification
    from charter.core.handover.report import render_html, render_markdown, report_data
    from charter.core.handover.verify import verify_contract

    project, _ = load(ctx, project_dir, fmt=fmt.value)
    v = verify_contract(project, name, engine=engine, debug=state_of(ctx).debug)
    written = []
    if markdown is not None:
        _write(markdown, render_markdown(v))
        written.append(markdown)
    if html is not None:
        _write(html, render_html(v))
        written.append(html)
    notes = list(v.notes)
    if catalog:
        notes += record_verification(project, v, report_path=str(html or markdown) if written else None)
    if fmt is OutputFormat.json:
        print_json({**report_data(v), "written": [str(p) for p in written],
                    "diagnostics": [d.to_dict() for d in notes]})
    else:
        render_verification(v, console())
        _notes(notes)
        for path in written:
            console().print(f"wrote {markup(path)}")
    raise typer.Exit(0 if v.accepted else 1)


@handover_app.command("sign")
def sign(
    ctx: typer.Context,
    name: ContractArgument,
    by: Annotated[str, typer.Option("--by", help="Who signs (an e-mail address or a name).")],
    role: Annotated[Role, typer.Option("--role", help="Which side signs: `from` (delivering) or `to` "
                                                      "(receiving).")],
    note: Annotated[str | None, typer.Option("--note", help="A note recorded with the sign-off.")] = None,
    override: Annotated[bool, typer.Option("--override", help="Sign a rejected contract anyway (needs "
                                                              "--reason).")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why a rejected contract is signed; "
                                                                "recorded.")] = None,
    engine: EngineOption = None,
    project_dir: ProjectOption = None,
    fmt: FormatOption = OutputFormat.text,
) -> None:
    """Verify a contract, then record a sign-off bound to everything it covers.

    The sign-off is appended (atomically) to `<spec file stem>.<contract>.signoffs.json` next to the
    contract's spec file — commit it. It is bound to a hash of the contract's spec, the specs it
    references, the artifact hashes, the environment locks and the data fingerprints of this
    verification; any later change makes it STALE in `verify`, the reports and the catalog.

    A rejected contract is refused (exit 1) unless `--override --reason "..."`; the reason is recorded.

    [bold]Examples[/bold]

      charter handover sign flights_handover --by flight-data@example.com --role from
      charter handover sign flights_handover --by ops-analytics@example.com --role to --note "checked Q4"
      charter handover sign delay_model_handover --by mle@example.com --role to --override \\
          --reason "latency measured on the serving cluster instead"
    """
    from charter.core.handover.record import record_signoffs
    from charter.core.handover.report import report_data
    from charter.core.handover.sign import check_arguments, sign_contract

    check_arguments(by, override, reason)
    project, _ = load(ctx, project_dir, fmt=fmt.value)
    signed = sign_contract(project, name, by=by, role=role.value, note=note, override=override, reason=reason,
                           engine=engine)
    v = signed.verification
    intact = [s.entry for s in v.signoffs if not s.tampered]  # a hand-edited one would show as current
    notes = signed.notes + record_signoffs(project, name, intact, signed.file)
    if fmt is OutputFormat.json:
        print_json({"signed": signed.entry.model_dump(exclude_none=True), "file": signed.file,
                    "report": report_data(v), "diagnostics": [d.to_dict() for d in notes]})
        return
    out = console()
    _notes(notes)
    what = "ACCEPTED" if v.accepted else f"REJECTED, signed with override: {signed.entry.override_reason}"
    out.print(f"[green]✓[/] {markup(signed.entry.by)} signed [bold]{markup(name)}[/] for `{role.value}` "
              f"({markup(signed.entry.team)}); verdict {markup(what)}")
    out.print(f"  bound to coverage {v.coverage.digest.removeprefix('sha256:')[:16]}… "
              f"({len(v.coverage.components)} components) · recorded in {markup(signed.file)} (commit it)")
    _render_signoffs(v, out)


def _notes(notes: list[Diagnostic]) -> None:
    if notes:
        from charter.core.cliutil import render_diagnostics

        render_diagnostics(notes)


def render_verification(v: Verification, out: Console) -> None:
    """The terminal report."""

    from charter.core.safetext import markup as escape  # spec text: no markup, no terminal control

    c = v.contract
    out.print(f"[bold]{escape(c.display_name)}[/] · {c.kind} contract [bold]{escape(c.name)}[/] v{escape(c.version)}"
              f" · {escape(c.from_.team)} → {escape(c.to.team)}", highlight=False)
    counts = v.counts()
    style = "bold white on green" if v.accepted else "bold white on red"
    out.print(f"[{style}] {v.verdict.upper()} [/] {counts['pass']} passed, {counts['fail']} failed, "
              f"{counts['error']} could not be evaluated, {counts['unverified']} not verified")
    from charter.core.cliutil import Column, fit_table

    # criteria, observations and thresholds wrap between words, never inside a name
    columns = [Column("#", "fixed"), Column("result", "fixed"), Column("criterion", "wrap", min_width=16),
               Column("observed", "wrap", min_width=12), Column("threshold", "wrap")]
    cells: list[list[RenderableType]] = []
    for r in v.criteria:
        claim = f" [dim]({r.claim.replace('_', '-')})[/]" if r.claim else ""
        cells.append(["·" if r.index is None else str(r.index + 1), f"[{_STYLE[r.outcome]}]{_WORD[r.outcome]}[/]",
                      escape(r.criterion), escape(r.observed or "") + claim, escape(r.threshold or "")])
    out.print()
    out.print(fit_table(columns, cells, width=out.width, box=None, header_style="bold", pad_edge=False,
                        show_edge=False))
    for r in v.criteria:
        if r.message and r.outcome != "pass":
            out.print(f"  [{_STYLE[r.outcome]}]{_WORD[r.outcome]}[/] {escape(r.criterion)}: {escape(r.message)}")
    out.print()
    out.print(f"[dim]evidence: verification {v.verdict_id}"
              + (f" · quality run {v.run_id} (.charter/runs/{v.run_id}.json)" if v.run_id else "")
              + f" · coverage {v.coverage.digest.removeprefix('sha256:')[:16]}… over {len(v.fingerprints)} "
                f"fingerprinted datasets and {len(v.artifacts)} artifacts[/]")  # wraps between words: ids stay whole
    _render_signoffs(v, out)


def _render_signoffs(v: Verification, out: Console) -> None:
    from charter.core.safetext import markup as escape  # spec text: no markup, no terminal control

    if not v.signoffs:
        out.print(f"[dim]no sign-off yet ({escape(v.signoff_file)})[/]")
        return
    out.print(f"[bold]Sign-offs[/] ({escape(v.signoff_file)})")
    for s in v.signoffs:
        state = ("[bold white on red]TAMPERED[/]" if s.tampered else "[bold red]STALE[/]" if s.stale
                 else "[green]valid[/]")
        override = f" [yellow](override: {escape(s.entry.override_reason)})[/]" if s.entry.override_reason else ""
        out.print(f"  {state} {escape(s.entry.by)} for `{s.entry.role}` on {s.entry.signed_at}{override}")
        for change in s.changes:
            out.print(f"      {escape(change)}")
        for edit in s.tampered:
            out.print(f"      [red]edited by hand:[/] {escape(edit)}")


@hookimpl
def charter_cli_commands(cli: typer.Typer) -> None:
    cli.add_typer(handover_app, name="handover", rich_help_panel="Contracts")
