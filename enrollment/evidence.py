"""Evidence files for priority claims: an image or a PDF, checked by size, declared type and
the file's own first bytes (a renamed executable is not a photo); kept in a private storage that
no URL serves (a child's hukou or disability certificate is read only through
`enrollment.evidence_views`, which checks who asks)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property
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
# Checked type → the extension of the stored file.
STORED_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, which has no URL: `.url()` raises, so no template can
    link a file past the view that checks the reader."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @cached_property
    def base_url(self):
        return None

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


private_storage = PrivateStorage()


def sniff_type(fileobj) -> str | None:
    """The type the file's first bytes say it is (one of SIGNATURES), or None."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    return next((t for t, magics in SIGNATURES.items()
                 if any(head.startswith(m) for m in magics)), None)


def stored_type(name: str) -> str:
    """The content type of a stored evidence file, from the extension its stored name was given
    from the checked type (never the type the uploader's browser declared)."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return EXTENSIONS.get(extension, "application/octet-stream")


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
    actual = sniff_type(upload)
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
