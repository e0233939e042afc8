"""Reading a ``multipart/form-data`` body that is already in memory (the webhook signs the raw bytes first).

Text parts become fields (UTF-8), parts with a file name become files; a
field named twice, a part without a name, or a body that is not a form is a
`FormError` naming the problem.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field


class FormError(ValueError):
    """A body that is not the form it says it is."""


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # name -> (bytes, declared content type)


def parse_form(raw: bytes, content_type: str, max_parts: int = 20) -> Form:
    """The fields and files of a ``multipart/form-data`` body (`content_type` is the request's header)."""
    if "boundary=" not in content_type:
        raise FormError("multipart/form-data needs a boundary in its Content-Type")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise FormError("the body is not a multipart form")
    form = Form()
    parts = list(message.iter_parts())
    if len(parts) > max_parts:
        raise FormError(f"the form has {len(parts)} parts; at most {max_parts}")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise FormError("a part of the form has no name (Content-Disposition: form-data; name=…)")
        if name in form.fields or name in form.files:
            raise FormError(f"{name}: given twice")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            form.files[name] = (data, part.get_content_type())
            continue
        try:
            form.fields[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError(f"{name}: not valid UTF-8") from None
    return form
