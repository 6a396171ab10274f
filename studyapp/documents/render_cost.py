"""What rendering a page would decode, checked before pdfium renders it for OCR.

A page without a text layer goes to OCR, and pdfium decodes every stream the page draws without a
cap. A small file can declare a content stream that inflates to gigabytes or an image of 30,000 x
30,000 pixels. Such a page is refused here, from what pypdf can tell without decoding it all: its
content streams decode within pypdf's own limits, and the images it draws (also inside form
XObjects) declare a decoded size under the limit. The sandbox's memory limit backs this up.
"""

from __future__ import annotations

import pypdf
from pypdf.errors import LimitReachedError

from studyapp.documents.errors import PdfTooDemanding

MB = 1024 * 1024
_FORM_DEPTH = 5  # form XObjects drawn inside form XObjects: deeper nesting is not followed
_COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/G": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/RGB": 3, "/Lab": 3,
               "/DeviceCMYK": 4, "/CMYK": 4, "/Indexed": 1, "/I": 1}


def check_render_cost(page: pypdf.PageObject, limit_mb: int) -> None:
    """Raises PdfTooDemanding if rendering `page` would decode more than `limit_mb` MB in one piece."""
    _check_contents(page)
    limit = limit_mb * MB
    for size in _image_sizes(page.get("/Resources"), depth=0, seen=set()):
        if size > limit:
            raise PdfTooDemanding(f"has an image that expands to {size // MB} MB, more than the {limit_mb} MB "
                                  f"allowed")


def _check_contents(page: pypdf.PageObject) -> None:
    contents = page.get("/Contents")
    if contents is None:
        return
    contents = contents.get_object()
    streams = contents if isinstance(contents, pypdf.generic.ArrayObject) else [contents]
    for stream in streams:
        try:
            stream.get_object().get_data()
        except LimitReachedError:
            limit_mb = pypdf.Configuration().zlib_maximum_output_length // 1_000_000
            raise PdfTooDemanding(f"has a page whose content expands to more than {limit_mb} MB of data") from None


def _image_sizes(resources, *, depth: int, seen: set[int]):
    """Declared decoded sizes (bytes) of the images drawn with these resources and their forms'."""
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, dict) or depth > _FORM_DEPTH:
        return
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, dict):
        return
    for reference in xobjects.values():
        if id(reference) in seen:
            continue
        seen.add(id(reference))
        xobject = reference.get_object()
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            yield _decoded_size(xobject)
        elif subtype == "/Form":
            yield from _image_sizes(xobject.get("/Resources"), depth=depth + 1, seen=seen)


def _decoded_size(image) -> int:
    width, height = _int(image.get("/Width")), _int(image.get("/Height"))
    bits = max(_int(image.get("/BitsPerComponent"), 8), 8)  # renderers expand to a byte per sample
    return width * height * _components(image.get("/ColorSpace")) * bits // 8


def _components(space) -> int:
    space = space.get_object() if space is not None else None
    if isinstance(space, pypdf.generic.ArrayObject) and space:
        if space[0] == "/ICCBased" and len(space) > 1:
            return _int(space[1].get_object().get("/N"), 4)
        return _COMPONENTS.get(str(space[0]), 4)
    return _COMPONENTS.get(str(space), 4) if space is not None else 1


def _int(value, default: int = 0) -> int:
    try:
        return max(int(value.get_object() if hasattr(value, "get_object") else value), 0)
    except (TypeError, ValueError):
        return default
