"""Concrete spec models, assembled from the rule and source types that plugins registered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Union

from pydantic import BaseModel, Discriminator, Field, Tag, TypeAdapter, create_model
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from charter.core.diagnostics import Diagnostic, error
from charter.core.spec.base import StrictModel
from charter.core.spec.contract import Contract
from charter.core.spec.dataset import DatasetBase, SourceSpec
from charter.core.spec.environment import Environment
from charter.core.spec.metric import Metric, SavedQuery
from charter.core.spec.project import ProjectSpec
from charter.core.spec.quality import QualitySuiteBase, Rule

SECTIONS: tuple[str, ...] = ("datasets", "metrics", "saved_queries", "quality", "environments", "contracts")
KIND_OF_SECTION = {"datasets": "dataset", "metrics": "metric", "saved_queries": "saved_query",
                   "quality": "quality", "environments": "environment", "contracts": "contract"}


class SpecModels:
    """The models a project is validated with, given the registered rule and source types."""

    def __init__(self, rule_types: Sequence[tuple[str, type[Rule]]],
                 source_types: Sequence[tuple[str, type[SourceSpec]]]):
        self.diagnostics: list[Diagnostic] = []
        self.rule_types: dict[str, type[Rule]] = {}
        self.rule_owner: dict[str, str] = {}
        for plugin, cls in rule_types:
            if not (isinstance(cls, type) and issubclass(cls, Rule)):
                self._bad(plugin, f"registered {cls!r} as a rule type; it must subclass charter.plugin_api.Rule")
                continue
            for name in cls.type_names():
                if name in self.rule_types:
                    self._clash("rule type", name, self.rule_owner[name], plugin)
                    break
            else:
                for name in cls.type_names():
                    self.rule_types[name] = cls
                    self.rule_owner[name] = plugin
        self.source_types: dict[str, type[SourceSpec]] = {}
        self.source_owner: dict[str, str] = {}
        self.source_keys: dict[str, str] = {}
        for plugin, source in source_types:
            if not (isinstance(source, type) and issubclass(source, SourceSpec) and source.TYPE):
                self._bad(plugin, f"registered {source!r} as a source type; it must subclass "
                                  "charter.plugin_api.SourceSpec and set TYPE")
                continue
            if source.TYPE in self.source_types:
                self._clash("source type", source.TYPE, self.source_owner[source.TYPE], plugin)
                continue
            self.source_types[source.TYPE] = source
            self.source_owner[source.TYPE] = plugin
            if source.KEY:
                self.source_keys[source.KEY] = source.TYPE

        self.Dataset = create_model("Dataset", __base__=DatasetBase, __module__=__name__,
                                    source=(self._source_union(), Field(description=_doc(DatasetBase, "source"))))
        self.QualitySuite = create_model("QualitySuite", __base__=QualitySuiteBase, __module__=__name__,
                                         rules=(list[self._rule_union()],  # type: ignore[misc,arg-type]
                                                Field(min_length=1, description=_doc(QualitySuiteBase, "rules"))))
        self.by_section: dict[str, type[BaseModel]] = {
            "datasets": self.Dataset, "metrics": Metric, "saved_queries": SavedQuery,
            "quality": self.QualitySuite, "environments": Environment, "contracts": Contract,
        }

    def _bad(self, plugin: str, message: str) -> None:
        self.diagnostics.append(error(f"plugin `{plugin}` {message}", code="plugin-registration"))

    def _clash(self, what: str, name: str, first: str, second: str) -> None:
        self.diagnostics.append(error(f"{what} `{name}` is registered by two plugins: `{first}` and `{second}`",
                                      code="plugin-name-clash",
                                      hint="uninstall one of them, or ask its author to rename the type"))

    def _rule_union(self) -> Any:
        classes = list(dict.fromkeys(self.rule_types.values()))
        if not classes:
            return Rule
        if len(classes) == 1:
            return classes[0]
        return Annotated[Union[tuple(classes)], Field(discriminator="type")]  # noqa: UP007

    def _source_union(self) -> Any:
        classes = list(self.source_types.values())
        if not classes:
            return SourceSpec  # no source plugin loaded: every source is reported as unknown
        keys = dict(self.source_keys)

        def tag(value: Any) -> str | None:
            if isinstance(value, SourceSpec):
                return value.TYPE
            if isinstance(value, dict):
                if "type" in value:
                    return str(value["type"])
                present = [keys[k] for k in value if k in keys]
                return present[0] if len(present) == 1 else None
            return None

        members = tuple(Annotated[cls, Tag(cls.TYPE)] for cls in classes)
        union = Union[members] if len(members) > 1 else members[0]  # noqa: UP007
        return Annotated[union, Discriminator(
            tag, custom_error_type="source_type",
            custom_error_message="cannot tell which kind of source this is",
            custom_error_context={"keys": ", ".join(f"`{k}`" for k in keys),
                                  "types": ", ".join(f"`{t}`" for t in self.source_types)})]

    def spec_file_model(self) -> type[BaseModel]:
        fields: dict[str, Any] = {section: (list[model], Field(default=[], description=_SECTION_DOCS[section]))  # type: ignore[valid-type]
                                  for section, model in self.by_section.items()}
        return create_model("SpecFile", __base__=StrictModel, __module__=__name__, **fields)

    def json_schema(self, *, project_file: bool = False) -> dict[str, Any]:
        model = ProjectSpec if project_file else self.spec_file_model()
        # The input forms the models accept (a string where a list of one is accepted, ...), in the
        # dialect Pydantic generates: Draft 2020-12 (`$defs`, `prefixItems`).
        schema = {"$schema": JSON_SCHEMA_DIALECT, **TypeAdapter(model).json_schema(
            mode="validation", schema_generator=InputJsonSchema)}
        schema["title"] = "Charter project file (charter.yaml)" if project_file else "Charter spec file"
        return schema


JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class InputJsonSchema(GenerateJsonSchema):
    """Pydantic's input schema, plus the other spellings of fields with `AliasChoices`.

    Pydantic lists a field under its first alias only; a spec may use any of them (`min_value` for
    `min`, `from_` for `from`), so each is a property too, and a required field needs one of them.
    """

    def model_fields_schema(self, schema: core_schema.ModelFieldsSchema) -> dict[str, Any]:
        json_schema = super().model_fields_schema(schema)
        properties = json_schema.get("properties")
        if not isinstance(properties, dict):
            return json_schema
        required = json_schema.get("required", [])
        for field in schema["fields"].values():
            choices = field.get("validation_alias")
            if not isinstance(choices, list):
                continue
            names = [path[0] for path in choices
                     if isinstance(path, list) and len(path) == 1 and isinstance(path[0], str)]
            if len(names) < 2 or names[0] not in properties:
                continue
            for other in names[1:]:
                properties.setdefault(other, properties[names[0]])
            if names[0] in required:
                required.remove(names[0])
                json_schema.setdefault("allOf", []).append({"anyOf": [{"required": [n]} for n in names]})
        if "required" in json_schema and not required:
            del json_schema["required"]
        return json_schema


def _doc(model: type[BaseModel], field: str) -> str | None:
    return model.model_fields[field].description


_SECTION_DOCS = {
    "datasets": "Tables the project reads: where they come from and what their columns mean.",
    "metrics": "Business metrics: simple, ratio, derived and cumulative.",
    "saved_queries": "Named metric queries.",
    "quality": "Rule suites, each over one dataset, run in one scan.",
    "environments": "Reproducibility environments: Python, packages, variables, seed.",
    "contracts": "Handover contracts between teams.",
}
