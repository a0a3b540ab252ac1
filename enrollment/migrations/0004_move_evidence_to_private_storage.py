"""Evidence uploaded before 0003 lies under MEDIA_ROOT with the uploader's own file name (served
at /media/ in the demo). Move each file into the private storage under a random name with the
extension of its checked type. A file already gone is left as it is (its row stays, the view
answers 404). Old files are deleted only once the new names are committed, so a failed run
loses nothing."""

import re
import uuid

from django.core.files.storage import default_storage
from django.db import migrations, transaction

# Frozen here rather than imported: the migration must behave the same whatever the code
# becomes.
SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"%PDF-": "pdf"}
RANDOM_NAME = re.compile(r"evidence/[0-9a-f]{32}\.(jpg|png|pdf|bin)")


def _extension(fileobj) -> str:
    head = fileobj.read(16)
    fileobj.seek(0)
    return next((ext for magic, ext in SIGNATURES.items() if head.startswith(magic)), "bin")


def _move(model, rows, source, target, *, rename: bool, alias: str) -> None:
    moved = []
    for pk, name in rows:
        if not name or not source.exists(name):
            continue
        with source.open(name, "rb") as content:
            new_name = f"evidence/{uuid.uuid4().hex}.{_extension(content)}" if rename else name
            new_name = target.save(new_name, content)
        model.objects.filter(pk=pk).update(file=new_name)
        moved.append(name)
    transaction.on_commit(lambda: [source.delete(name) for name in moved], using=alias)


def to_private(apps, schema_editor):
    ClaimEvidence = apps.get_model("enrollment", "ClaimEvidence")
    private = ClaimEvidence._meta.get_field("file").storage
    rows = [(pk, name) for pk, name in ClaimEvidence.objects.values_list("pk", "file")
            if not (RANDOM_NAME.fullmatch(name or "") and private.exists(name))]
    _move(ClaimEvidence, rows, default_storage, private, rename=True,
          alias=schema_editor.connection.alias)


def to_media(apps, schema_editor):
    """Back under MEDIA_ROOT, keeping the random names (the old code reads any name there)."""
    ClaimEvidence = apps.get_model("enrollment", "ClaimEvidence")
    private = ClaimEvidence._meta.get_field("file").storage
    _move(ClaimEvidence, ClaimEvidence.objects.values_list("pk", "file"), private,
          default_storage, rename=False, alias=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("enrollment", "0003_evidence_private_storage"),
    ]

    operations = [
        migrations.RunPython(to_private, to_media),
    ]
