"""Evidence files for priority claims: an image or a PDF, checked by size, declared type and
the file's own first bytes (a renamed executable is not a photo)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
# Declared type → magic bytes the content must start with.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
EXTENSIONS = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
              "pdf": "application/pdf"}


def check_evidence(upload) -> str:
    """Return the verified content type, or raise ValidationError with a message for the
    `evidence` field."""
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError(_("证明材料不能超过 5 MB（当前 %(mb).1f MB）。")
                              % {"mb": upload.size / 1024 / 1024})
    if upload.size == 0:
        raise ValidationError(_("证明材料是空文件。"))
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    declared = EXTENSIONS.get(extension)
    if declared is None:
        raise ValidationError(_("证明材料只接受 JPG、PNG 图片或 PDF 文件。"))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    actual = next((t for t, magics in SIGNATURES.items()
                   if any(head.startswith(m) for m in magics)), None)
    if actual != declared:
        raise ValidationError(_("文件内容与类型不符：请上传真实的 JPG、PNG 或 PDF 文件。"))
    if actual.startswith("image/"):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise ValidationError(_("图片已损坏或无法识别。")) from exc
        finally:
            upload.seek(0)
    return actual
