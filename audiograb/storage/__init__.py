"""Where finished files live: this node's output folder, or an S3-compatible object store.

`output_files(settings)` picks one. The file route, the bot and job deletion read and
remove a job's file only through it, so every node of a cluster serves the same bytes.
"""

from audiograb.storage.files import FileInfo, OutputFiles, save_copy
from audiograb.storage.local import LocalFiles
from audiograb.storage.objects import ObjectFiles, object_key, open_object_store
from audiograb.storage.select import output_files

__all__ = [
    "FileInfo",
    "LocalFiles",
    "ObjectFiles",
    "OutputFiles",
    "object_key",
    "open_object_store",
    "output_files",
    "save_copy",
]
