"""What autostack knows of Frame.io's undocumented answers (``docs/frameio.md`` §10). Pure data.

Every field is None until learned. ``autostack doctor --probe`` learns them on the real account
(in a scratch folder it makes and deletes) and stores them in Redis; the workers read them once
per process and use a known answer instead of discovering it on a user's stack. Where a field is
None, autostack behaves correctly under every answer Frame.io might give (the sandbox has a knob
for each, and the tests run under every value).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Literal

#: The Redis key the learned answers are kept under (a JSON object of the non-None fields).
PLATFORM_KEY = "autostack:platform"


@dataclass(frozen=True)
class Platform:
    move_lands: Literal["bottom", "top"] | None = None  # where a file moved into a stack lands
    children_order: Literal["top_first", "bottom_first"] | None = None  # a stack's children listing
    reorder_needs_experimental: bool | None = None  # reorder answers only with api-version: experimental
    type_list: Literal["honoured", "refused_422", "first_only"] | None = None  # type=file,version_stack
    head_version_in_listings: bool | None = None  # folder listings name a stack's head
    head_version_in_show_stack: bool | None = None  # show_stack names the head
    stack_as_folder_status: int | None = None  # listing a stack's id as a folder: 404, 400 or 422
    media_type_before_upload: Literal["set", "null"] | None = None  # a file's media_type mid-upload
    stack_name: Literal["frozen", "follows_head"] | None = None  # a stack's name after a new head
    read_lag_ms: float | None = None  # how long a read may not reflect a write (0: read after write)
    learned_at: float | None = None  # when the doctor learned these (Unix time)

    def to_json(self) -> str:
        known = {name: value for name, value in dataclasses.asdict(self).items() if value is not None}
        return json.dumps(known, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes | None) -> Platform:
        """The stored answers; unknown or malformed content is ignored field by field."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        names = {field.name for field in dataclasses.fields(cls)}
        return (
            cls(**{name: value for name, value in data.items() if name in names}) if isinstance(data, dict) else cls()
        )
