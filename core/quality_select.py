"""`--select`: which rules a run checks, by dataset, suite, tag or quality dimension.

Selectors combine by union; ``--exclude`` takes the same selectors and removes what they match from
the selection (after ``--select``). ``NAME`` matches a dataset or a suite of that name; ``dataset:NAME``,
``suite:NAME``, ``tag:TAG`` (a suite's tags select the whole suite, a rule's tags that rule) and
``dimension:DIM`` are explicit. A selector that matches nothing is a usage error with a suggestion:
a typo must never turn into a green run that checked nothing.
"""

from __future__ import annotations

from charter.core.diagnostics import Diagnostic, UsageError, did_you_mean, error
from charter.core.project import Project
from charter.core.quality import RuleRef
from charter.core.spec.quality import DIMENSIONS

KINDS = ("dataset", "suite", "tag", "dimension")


def _all(project: Project) -> list[RuleRef]:
    return [RuleRef(suite, i) for _, suite in sorted(project.quality.items()) for i in range(len(suite.rules))]


def _match(project: Project, selector: str, option: str = "--select") -> tuple[list[RuleRef], Diagnostic | None]:
    kind, _, value = selector.partition(":") if ":" in selector else ("", "", selector)
    everything = _all(project)
    if kind and kind not in KINDS:
        return [], error(f"unknown selector `{kind}:` in `{option} {selector}`", code="bad-selector",
                         hint=did_you_mean(kind, KINDS) or f"use one of {', '.join(k + ':' for k in KINDS)} "
                                                           "or a plain dataset or suite name")
    if kind in ("", "dataset", "suite"):
        found = [r for r in everything if (kind != "suite" and r.suite.dataset == value) or
                 (kind != "dataset" and r.suite.name == value)]
        pool = ({s.dataset for s in project.quality.values()} if kind != "suite" else set()) | \
               (set(project.quality) if kind != "dataset" else set())
        what = {"": "dataset or quality suite", "dataset": "dataset with quality suites",
                "suite": "quality suite"}[kind]
        if not found and kind == "dataset" and value in project.datasets:
            return [], error(f"dataset `{value}` has no quality suite", code="empty-selection",
                             hint="add a suite with `dataset: " + value + "` under `quality:`")
    elif kind == "tag":
        found = [r for r in everything if value in r.suite.tags or value in r.rule.tags]
        pool = {t for s in project.quality.values() for t in s.tags} | \
               {t for r in everything for t in r.rule.tags}
        what = "tag on a quality suite or rule"
    else:
        found = [r for r in everything if r.rule.effective_dimension == value]
        pool = set(DIMENSIONS)
        what = "quality dimension"
        if not found and value in DIMENSIONS:
            used = sorted({r.rule.effective_dimension for r in everything})
            return [], error(f"no rule checks the `{value}` dimension", code="empty-selection",
                             hint=f"dimensions used: {', '.join(used)}")
    if found:
        return found, None
    hint = did_you_mean(value, pool) or (f"choose from: {', '.join(sorted(pool)[:12])}" if pool else None)
    return [], error(f"`{option} {selector}` matches no {what}", code="empty-selection", hint=hint)


def select_rules(project: Project, selection: list[str], exclude: list[str] | None = None) -> list[RuleRef]:
    """The rules a run checks, in suite order: ``selection`` (default: all) less what ``exclude`` matches.

    Raises :class:`UsageError` for selectors (of either option) that match nothing.
    """
    chosen: dict[tuple[str, int], RuleRef] = {}
    problems = []
    if not selection:
        chosen = {(ref.suite.name, ref.index): ref for ref in _all(project)}
    for selector in selection:
        found, problem = _match(project, selector.strip())
        if problem is not None:
            problems.append(problem)
        for ref in found:
            chosen[(ref.suite.name, ref.index)] = ref
    for selector in exclude or []:
        found, problem = _match(project, selector.strip(), "--exclude")
        if problem is not None:
            problems.append(problem)
        for ref in found:
            chosen.pop((ref.suite.name, ref.index), None)
    if problems:
        raise UsageError(problems)
    return sorted(chosen.values(), key=lambda r: (r.suite.name, r.index))
