"""Save and load sandbox state as JSON, atomically, so a demo survives a restart."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def save_json(path: Path, data: Any) -> None:
    """Write to a temporary file beside ``path`` and rename it over, so a crash mid-save
    leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        text = json.dumps(data, separators=(",", ":"))  # one string: far faster than streaming
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_json(path: Path) -> Any | None:
    """The saved document, or ``None`` when there is no file yet."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    return json.loads(path.read_text(encoding="utf-8"))
