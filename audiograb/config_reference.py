"""The configuration reference, generated from the `Settings` type: `docs/configuration.md`.

Names, types, constraints and defaults come from msgspec's view of `Settings`; descriptions are
the docstrings under each field, read from `audiograb/config.py` with `ast` (Python keeps no
attribute docstrings at run time). A setting without one is an error, so the reference cannot
silently miss a description. Regenerate with `make docs`, i.e.

    python -m audiograb.config_reference > docs/configuration.md

and a test fails while the committed file differs from what this renders.
"""

import ast
import inspect
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi

from audiograb import config
from audiograb.config import CONFIG_ENV, Settings, env_var

__all__ = ["EXAMPLE_TOML", "SettingDoc", "describe_settings", "render_reference"]

#: A settings file in the shape `AUDIOGRAB_CONFIG` expects; a test loads it.
EXAMPLE_TOML = """\
data_dir = "/srv/audiograb"
max_concurrent_jobs = 4
api_keys = ["change-me-to-a-long-random-key"]
allow_networks = ["10.0.0.5/32"]
bot_allowed_ids = [11111111, -100222]
"""

_INTRO = f"""\
# Configuration reference

<!-- Generated from audiograb/config.py by `make docs`; do not edit by hand. -->

AudioGrab reads its settings, highest precedence first, from:

1. options of the command you run (`--data-dir`, `serve --host/--port`) or the keyword
   arguments of `load_settings(...)`;
2. environment variables: `AUDIOGRAB_` and the setting's name in capitals;
3. a TOML file named by `{CONFIG_ENV}` (top-level keys are the setting names);
4. the defaults below.

An empty value (`AUDIOGRAB_PUBLIC_URL=`, `public_url = ""`) counts as unset. Lists are
comma-separated in environment variables (`AUDIOGRAB_API_KEYS=key-one…,key-two…`) and arrays in
TOML. Booleans are `true`/`false` (or `1`/`0`); paths may start with `~`. Unknown keys in the
TOML file are refused; unknown `AUDIOGRAB_*` variables are ignored.

Invalid values stop the start with a message that names the setting and its variable, e.g.
``invalid setting port (AUDIOGRAB_PORT): Expected `int` <= 65535``. Besides the constraints in
the table, URL settings must be absolute `http(s)` URLs with a host and every `allow_networks`
entry must be an IP address or network.

```toml
# audiograb.toml, used with AUDIOGRAB_CONFIG=/etc/audiograb/audiograb.toml
{EXAMPLE_TOML}```

## Settings

| Setting | Environment variable | Type | Default | Description |
| --- | --- | --- | --- | --- |
"""


class SettingDoc(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the reference."""

    name: str
    env: str
    type: str
    default: str
    description: str


def describe_settings() -> list[SettingDoc]:
    """Every setting in declaration order, with what the reference says about it."""
    info = mi.type_info(Settings)
    assert isinstance(info, mi.StructType)
    descriptions = _field_docstrings()
    docs = []
    for field in info.fields:
        if field.name not in descriptions:
            raise LookupError(f"setting {field.name} has no docstring in audiograb/config.py")
        docs.append(
            SettingDoc(
                name=field.name,
                env=env_var(field.name),
                type=_type_text(field.type),
                default=_default_text(field),
                description=descriptions[field.name],
            )
        )
    return docs


def render_reference() -> str:
    """The whole Markdown text of `docs/configuration.md`."""
    rows = (
        f"| `{doc.name}` | `{doc.env}` | {_cell(doc.type)} | {doc.default} "
        f"| {_cell(doc.description)} |"
        for doc in describe_settings()
    )
    return _INTRO + "\n".join(rows) + "\n"


def _field_docstrings() -> dict[str, str]:
    """The string literal under each annotated field of `Settings`, on one line."""
    tree = ast.parse(inspect.getsource(config))
    settings = next(
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == Settings.__name__
    )
    found: dict[str, str] = {}
    for statement, following in zip(settings.body, settings.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = " ".join(following.value.value.split())
    return found


def _type_text(kind: mi.Type) -> str:
    """A reader's name for a setting's type, with its constraints (`integer, ≥ 1`)."""
    if isinstance(kind, mi.UnionType):
        # Optional settings: `None` is what "unset" in the Default column means.
        return " or ".join(_type_text(t) for t in kind.types if not isinstance(t, mi.NoneType))
    if isinstance(kind, mi.VarTupleType | mi.ListType):
        item = kind.item_type
        each = (f"{limit} each" for limit in _constraints(item))
        return ", ".join([f"list of {_base_name(item)}", *each])
    return ", ".join([_base_name(kind), *_constraints(kind)])


def _base_name(kind: mi.Type) -> str:
    names: dict[type[mi.Type], str] = {
        mi.IntType: "integer",
        mi.FloatType: "number",
        mi.BoolType: "boolean",
        mi.StrType: "string",
    }
    if isinstance(kind, mi.CustomType) and kind.cls is Path:
        return "path"
    return names[type(kind)]


def _constraints(kind: mi.Type) -> Iterator[str]:
    """msgspec `Meta` constraints of a scalar type, in reading order."""
    bounds = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
    for attribute, sign in bounds:
        value = getattr(kind, attribute, None)
        if value is not None:
            yield f"{sign} {value}"
    min_length = getattr(kind, "min_length", None)
    if min_length is not None:
        yield f"at least {min_length} characters"
    pattern = getattr(kind, "pattern", None)
    if pattern is not None:
        yield f"matching `{pattern}`"


def _default_text(field: mi.Field) -> str:
    if field.default_factory is not msgspec.NODEFAULT:
        factory: Any = field.default_factory
        text = inspect.getdoc(factory)
        if not text:
            raise LookupError(f"the default factory of {field.name} needs a docstring")
        return _cell(text.splitlines()[0])
    return _value_text(field.default)


def _value_text(value: object) -> str:
    if value is None:
        return "unset"
    if value == ():
        return "empty"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Text that cannot break a Markdown table row."""
    return text.replace("|", "\\|")


if __name__ == "__main__":
    sys.stdout.write(render_reference())
