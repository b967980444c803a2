"""Media kinds: video stacks with video, image with image, audio with audio."""

from __future__ import annotations

_BY_EXTENSION = {
    "video": {"mov", "mp4", "m4v", "mxf", "avi", "mkv", "webm", "r3d", "braw", "ari", "mts", "m2ts", "prores"},
    "image": {"exr", "dpx", "tif", "tiff", "png", "jpg", "jpeg", "tga", "psd", "gif", "heic", "webp", "bmp"},
    "audio": {"wav", "aif", "aiff", "mp3", "m4a", "aac", "flac", "ogg", "bwf"},
    "document": {"pdf", "doc", "docx", "txt", "rtf", "pages", "key", "ppt", "pptx", "xls", "xlsx", "csv"},
}


def media_kind(name: str, media_type: str | None) -> str:
    """``video``, ``image``, ``audio``, ``document`` or ``other``, from the MIME type or the extension."""
    if media_type:
        major = media_type.split("/", 1)[0].lower()
        if major in ("video", "image", "audio"):
            return major
        if media_type.lower() in ("application/pdf", "text/plain"):
            return "document"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for kind, extensions in _BY_EXTENSION.items():
        if extension in extensions:
            return kind
    return "other"
