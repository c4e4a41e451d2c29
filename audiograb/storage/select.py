"""Choosing where finished files live from the settings."""

from audiograb.config import Settings
from audiograb.storage.files import OutputFiles
from audiograb.storage.local import LocalFiles
from audiograb.storage.objects import ObjectFiles, open_object_store

__all__ = ["output_files"]


def output_files(settings: Settings) -> OutputFiles:
    """The object store of `storage_url` when set, else the local output folder."""
    if settings.storage_url is None:
        return LocalFiles()
    return ObjectFiles(
        open_object_store(
            settings.storage_url,
            settings.storage_access_key_id,
            settings.storage_secret_access_key,
        )
    )
