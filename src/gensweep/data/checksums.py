"""Compare files with the MD5 sums torchvision publishes for them: a mismatch is logged, not fatal.

A file that parses but differs from the published one (a re-packed or trimmed copy) still trains; a file that
does not parse is an error at read time.
"""

from __future__ import annotations

import logging
from pathlib import Path

from torchvision.datasets.utils import check_integrity

log = logging.getLogger("gensweep")


def warn_if_modified(path: Path, md5: str) -> None:
    if not check_integrity(str(path), md5):
        log.warning("%s differs from the published file (MD5 mismatch); using it as it is", path)
