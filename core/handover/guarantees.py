"""Guarantees implied by the deliverables: schemas, pinned artifacts, a model's signature, replay and
operational constraints. They are judged like acceptance criteria (the contract states them), but
have no entry in `acceptance`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from charter.core.handover.criteria import Context, CriterionResult, artifact
from charter.core.handover.model import LOADERS, LoadedModel, LoadProblem, Replay, detect_format, replay
from charter.core.spec.contract import ArtifactCriterion, DatasetDeliverable, ModelSignature, SignatureField


def implied(ctx: Context) -> list[CriterionResult]:
    """Every implied guarantee of the contract, in a stable order."""
    d = ctx.contract.deliverables
    out = [dataset_schema(ctx, ds) for ds in d.datasets if ds.columns]
    judged = {c.artifact for c in ctx.contract.acceptance if isinstance(c, ArtifactCriterion)}
    out += [artifact(ctx, None, a.path) for a in d.artifacts if a.path not in judged]
    model, replayed, size = None, None, None
    if d.signature is not None:
        out.append(signature_examples(d.signature))
        result, model, replayed, size = model_replay(ctx, d.signature)
        out.append(result)
    if ctx.contract.constraints is not None:
        out += constraints(ctx, model, replayed, size)
    return out


# -- dataset schemas -----------------------------------------------------------------------------------

def dataset_schema(ctx: Context, ds: DatasetDeliverable) -> CriterionResult:
    """Each guaranteed column exists with its type; a non-nullable one holds no NULL (one query counts them)."""
    from sqlglot import exp

    from charter.core.schemacheck import normalise_type

    words = f"{ds.name} has the {len(ds.columns)} guaranteed column{'s' if len(ds.columns) != 1 else ''}"
    schema = ctx.warehouse.schema(ds.name)
    if schema is None:
        return CriterionResult("schema", words, "error", None, None, "measured",
                               f"dataset `{ds.name}` could not be read", None)
    problems: list[str] = []
    checked_nulls = [c.name for c in ds.columns if c.nullable is False and c.name in schema]
    for col in ds.columns:
        if col.name not in schema:
            problems.append(f"`{col.name}` is missing")
        elif col.type and normalise_type(col.type) != normalise_type(schema[col.name]):
            problems.append(f"`{col.name}` is {schema[col.name]}, guaranteed {col.type}")
    nulls: dict[str, int] = {}
    if checked_nulls:
        table = exp.Table(this=exp.to_identifier(ds.name, quoted=True))
        select = exp.select(*[exp.alias_(exp.func("count_if", exp.column(c, quoted=True).is_(exp.null())), c,
                                         quoted=True) for c in checked_nulls]).from_(table)
        nulls = {k: int(v or 0) for k, v in ctx.warehouse.engine.execute(select).to_pylist()[0].items()}
        problems += [f"`{c}` has {n:,} NULL{'s' if n != 1 else ''}, guaranteed not nullable"
                     for c, n in nulls.items() if n]
    observed = f"{len(ds.columns) - len(problems)}/{len(ds.columns)} as guaranteed" if problems else \
        f"{len(ds.columns)} columns, types and nullability as guaranteed"
    return CriterionResult("schema", words, "fail" if problems else "pass", observed, "as guaranteed", "recomputed",
                           "; ".join(problems), None, {"dataset": ds.name, "schema": schema, "nulls": nulls})


# -- a model's signature and replay --------------------------------------------------------------------

def _conforms(value: Any, f: SignatureField) -> str | None:
    if value is None:
        return None if f.nullable else f"`{f.name}` is null but not nullable"
    ok = {"integer": isinstance(value, int) and not isinstance(value, bool),
          "number": isinstance(value, int | float) and not isinstance(value, bool),
          "string": isinstance(value, str), "boolean": isinstance(value, bool),
          "date": isinstance(value, str) and _parses(value, date_only=True),
          "timestamp": isinstance(value, str) and _parses(value, date_only=False)}[f.type]
    return None if ok else f"`{f.name}` is {value!r}, not a {f.type}"


def _parses(text: str, *, date_only: bool) -> bool:
    try:
        (dt.date if date_only else dt.datetime).fromisoformat(text)
    except ValueError:
        return False
    return True


def signature_examples(sig: ModelSignature) -> CriterionResult:
    """The input example and the expected output conform to the declared signature."""
    words = f"examples conform to the signature ({len(sig.inputs)} inputs, {len(sig.outputs)} outputs)"
    if not sig.input_example:
        return CriterionResult("signature", words, "unverified", "no example", "conforms", "measured",
                               "the signature has no `input_example` to check", None)
    problems: list[str] = []
    for what, rows, fields in (("input", sig.input_example, sig.inputs),
                               ("output", sig.expected_output or [], sig.outputs)):
        for i, row in enumerate(rows):
            for f in fields:
                if f.name not in row and not f.nullable:
                    problems.append(f"{what} row {i + 1}: `{f.name}` is missing")
                elif f.name in row and (problem := _conforms(row[f.name], f)):
                    problems.append(f"{what} row {i + 1}: {problem}")
    observed = f"{len(sig.input_example)} example row{'s' if len(sig.input_example) != 1 else ''}"
    return CriterionResult("signature", words, "fail" if problems else "pass", observed, "conforms", "measured",
                           "; ".join(problems[:8]), None)


def model_replay(ctx: Context, sig: ModelSignature
                 ) -> tuple[CriterionResult, LoadedModel | None, Replay | None, int | None]:
    """Replay the example through the first delivered artifact a loader can read."""
    words = "replaying input_example reproduces expected_output"
    seen: list[str] = []
    for item in ctx.contract.deliverables.artifacts:
        state = ctx.artifacts.get(item.path)
        path = ctx.project.root / item.path
        fmt = detect_format(path, item.format) if state and state.found else (item.format or "missing file")
        seen.append(f"`{item.path}` ({fmt})")
        loader = LOADERS.get(fmt)
        if loader is None or state is None or not state.found:
            continue
        try:
            model = loader(path)
        except LoadProblem as exc:
            return (CriterionResult("replay", words, "fail", "cannot load", "reproduced", "measured",
                                    f"`{item.path}` claims format {fmt} but {exc}", None), None, None, state.size)
        declared_in = {f.name for f in sig.inputs}
        declared_out = {f.name for f in sig.outputs}
        problems = [f"the model reads `{n}`, which the signature does not declare" for n in model.inputs
                    if n not in declared_in]
        problems += [f"the signature promises output `{n}`, which the model does not produce" for n in declared_out
                     if n not in model.outputs]
        details: dict[str, Any] = {"artifact": item.path, "format": fmt, "model": model.description}
        if problems:
            return (CriterionResult("replay", words, "fail", "signature mismatch", "reproduced", "measured",
                                    "; ".join(problems), None, details), model, None, state.size)
        if not sig.input_example:
            return (CriterionResult("replay", words, "unverified", "no example", "reproduced", "measured",
                                    f"loaded `{item.path}` ({model.description}) but the signature has no "
                                    "`input_example` to replay", None, details), model, None, state.size)
        result = replay(model, sig.input_example, sig.expected_output, sig.tolerance)
        details["outputs"] = result.outputs
        rows = f"{result.rows} row{'s' if result.rows != 1 else ''}"
        if result.mismatches:
            return (CriterionResult("replay", words, "fail", f"{len(result.mismatches)} mismatch(es) in {rows}",
                                    f"within {sig.tolerance:g}", "measured", "; ".join(result.mismatches[:6]),
                                    None, details), model, result, state.size)
        if sig.expected_output is None:
            return (CriterionResult("replay", words, "unverified", f"{rows} predicted", "reproduced", "measured",
                                    "no `expected_output` to compare with; the outputs are in the report", None,
                                    details), model, result, state.size)
        return (CriterionResult("replay", words, "pass", f"{rows} reproduced", f"within {sig.tolerance:g}",
                                "measured", f"{model.description}, loaded from `{item.path}` ({fmt})", None, details),
                model, result, state.size)
    formats = ", ".join(seen) or "no artifact is delivered"
    return (CriterionResult("replay", words, "unverified", "not replayed", "reproduced", None,
                            f"no loader for the delivered artifacts: {formats}. Charter loads "
                            f"{', '.join(LOADERS)} models; the example was NOT replayed", None), None, None, None)


# -- operational constraints ---------------------------------------------------------------------------

def constraints(ctx: Context, model: LoadedModel | None, replayed: Replay | None,
                size: int | None) -> list[CriterionResult]:
    c = ctx.contract.constraints
    assert c is not None
    out: list[CriterionResult] = []
    if c.artifact_size_mb is not None:
        words = f"model artifact size <= {c.artifact_size_mb:g} MB"
        if size is None:
            sizes = [s.size for s in ctx.artifacts.values() if s.size is not None]
            size = sizes[0] if sizes else None
        if size is None:
            out.append(CriterionResult("constraint", words, "error", None, f"<= {c.artifact_size_mb:g} MB",
                                       "measured", "no delivered artifact could be measured", None))
        else:
            mb = size / 1e6
            ok = mb <= c.artifact_size_mb
            shown = f"{mb:.3g} MB" if size >= 1e6 else f"{size / 1e3:.3g} kB"
            out.append(CriterionResult("constraint", words, "pass" if ok else "fail", f"{shown} ({size:,} bytes)",
                                       f"<= {c.artifact_size_mb:g} MB", "measured", "", None))
    if c.p95_latency_ms is not None:
        words = f"p95 latency of one prediction <= {c.p95_latency_ms:g} ms"
        if replayed is None or replayed.p95_ms is None:
            out.append(CriterionResult("constraint", words, "unverified", "not measured", f"<= {c.p95_latency_ms:g} ms",
                                       None, "measured only by replaying the example through a loaded model, which "
                                             "did not happen (see the replay)", None))
        else:
            ok = replayed.p95_ms <= c.p95_latency_ms
            out.append(CriterionResult("constraint", words, "pass" if ok else "fail", f"{replayed.p95_ms:.3g} ms",
                                       f"<= {c.p95_latency_ms:g} ms", "measured",
                                       f"{replayed.samples} single-row predictions in this process (in-process "
                                       "replay, not a serving benchmark)", None))
    if c.memory_mb is not None:
        out.append(CriterionResult("constraint", f"memory <= {c.memory_mb:g} MB", "unverified", "not measured",
                                   f"<= {c.memory_mb:g} MB", None, "stated by the delivering side: Charter does not "
                                   "run the model in a serving process, so it cannot measure its memory", None))
    return out
