"""OpenAPI that Litestar cannot infer: bodies handlers read themselves, responses of many types.

`POST /api/batches/upload` and `POST /api/transcriptions` read their bodies themselves (see
`forms` and `bodies`), so Litestar documents no request body for them; the transcript route
answers in the content type of the format asked for, where Litestar documents one. A route
gets the missing parts through an `operation_class` made by `documented`. Body schemas are
built from the very msgspec types the handlers convert to (msgspec's JSON Schema, its `$defs`
inlined), so the documentation cannot drift from what is accepted.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

__all__ = ["ClosedStructs", "documented", "json_body", "schema_of", "upload_body"]

#: msgspec's JSON Schema keywords and the `Schema` fields they fill (subschemas are converted).
_PLAIN = {
    "title": "title",
    "description": "description",
    "enum": "enum",
    "default": "default",
    "minimum": "minimum",
    "maximum": "maximum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
    "pattern": "pattern",
    "required": "required",
    "additionalProperties": "additional_properties",
}


def schema_of(struct: type[msgspec.Struct]) -> Schema:
    """The OpenAPI schema of a msgspec type, with every `$ref` resolved in place."""
    generated = msgspec.json.schema(struct)
    return _convert(generated, generated.get("$defs", {}))


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Schema:
    if "$ref" in node:
        target = _convert(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        rest = {key: value for key, value in node.items() if key != "$ref"}
        return replace(target, **_fields(rest, defs)) if rest else target
    return Schema(**_fields(node, defs))


def _fields(node: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in node.items():
        if key in _PLAIN:
            fields[_PLAIN[key]] = value
        elif key == "type":
            fields["type"] = OpenAPIType(value)
        elif key == "properties":
            fields["properties"] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key == "items":
            fields["items"] = _convert(value, defs)
        elif key == "anyOf":
            fields["any_of"] = [_convert(sub, defs) for sub in value]
        elif key != "$defs":
            raise ValueError(f"no OpenAPI counterpart for JSON Schema keyword {key!r}")
    return fields


def json_body(struct: type[msgspec.Struct]) -> dict[str, OpenAPIMediaType]:
    """A JSON request body of type `struct`."""
    return {"application/json": OpenAPIMediaType(schema=schema_of(struct))}


def upload_body(options: type[msgspec.Struct], file: str) -> dict[str, OpenAPIMediaType]:
    """A `multipart/form-data` body: a required `file` (described by `file`) and `options`."""
    fields = schema_of(options)
    schema = replace(
        fields,
        properties={
            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=file),
            **(fields.properties or {}),
        },
        required=["file"],
    )
    return {"multipart/form-data": OpenAPIMediaType(schema=schema)}


def documented(
    *,
    body: Mapping[str, OpenAPIMediaType] | None = None,
    also_answers: Mapping[int, Mapping[str, Schema]] | None = None,
) -> type[Operation]:
    """An `operation_class` adding a required request `body` (by media type), and more media
    types to responses (`also_answers`: by status, each media type with its schema)."""
    extra = dict(also_answers or {})

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if body is not None:
                self.request_body = RequestBody(content=dict(body), required=True)
            for status, media_types in extra.items():
                response = (self.responses or {})[str(status)]
                content = getattr(response, "content", None)
                for kind, shown in media_types.items():
                    if content is not None:
                        content[kind] = OpenAPIMediaType(schema=shown)

    return DocumentedOperation


class ClosedStructs(StructSchemaPlugin):
    """Litestar's msgspec schemas, closed where the struct is: a body type that forbids unknown
    fields (`forbid_unknown_fields`, refused with 422) says `additionalProperties: false`, so a
    client that follows the schema never sends what is refused."""

    def to_openapi_schema(
        self, field_definition: "FieldDefinition", schema_creator: "SchemaCreator"
    ) -> Schema:
        schema: Schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
