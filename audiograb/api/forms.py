"""Reading `multipart/form-data` bodies: the form, and the options its text fields carry.

Litestar decodes each text field in the charset its part names (UTF-8 unless it says otherwise)
and lets a decoding failure escape, so a field of stray bytes or an unknown charset would be a
500; here it is 400 `invalid_request`. Options come from the text fields through msgspec, leniently
(`"7"` is 7); what does not fit is 422 `validation_failed` naming the field, as for JSON bodies.
"""

from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import ValidationException

from audiograb.api.errors import invalid_body
from audiograb.domain import AudiograbError, ErrorCode

__all__ = ["form_options", "read_form", "uploaded_file"]

#: What a file part must have to be taken for a file (Litestar reads one without as text).
_FILE_NAME_NEEDED = "a file part needs a file name (`filename=` in its Content-Disposition)"

T = TypeVar("T")


async def read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The request's form; `invalid_request` when a text field is not text."""
    try:
        return await request.form()
    except (UnicodeDecodeError, LookupError):
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST,
            "a form field is not text in the charset it names (UTF-8 unless it says otherwise); "
            + _FILE_NAME_NEEDED,
        ) from None


def uploaded_file(form: FormMultiDict, what: str, *, field: str = "file") -> UploadFile:
    """The form's file `field`; `invalid_request` saying how to send `what` when it is not one."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise AudiograbError(
            ErrorCode.INVALID_REQUEST, f"send {what} as a `{field}` field; {_FILE_NAME_NEEDED}"
        )
    return upload


def form_options(form: FormMultiDict, options: type[T], *, file_field: str = "file") -> T:
    """The form's fields other than `file_field` as `options`; 422 when they do not fit, when
    one of them comes more than once (which value would count is anybody's guess), or when a
    flag is anything but `true` or `false`."""
    fields = {key: value for key, value in form.items() if key != file_field}
    wrong = {key: "given more than once" for key in fields if len(form.getall(key)) > 1}
    for key in _flags(options):
        # msgspec's lax mode would read "0", "1", "on" too; the schema says true or false.
        if isinstance(fields.get(key), str) and fields[key] not in ("true", "false"):
            wrong.setdefault(key, "Expected `true` or `false`")
    if wrong:
        raise ValidationException(
            detail="a form field is not as documented",
            extra=[
                {"key": key, "source": "body", "message": message}
                for key, message in sorted(wrong.items())
            ],
        )
    try:
        return msgspec.convert(fields, options, strict=False)
    except msgspec.ValidationError as error:
        raise invalid_body(error) from None


def _flags(options: type[Any]) -> list[str]:
    """The fields of `options` that hold a boolean."""
    info = msgspec.inspect.type_info(options)
    if not isinstance(info, msgspec.inspect.StructType):
        return []
    return [f.name for f in info.fields if isinstance(f.type, msgspec.inspect.BoolType)]
