"""Sites we grab from: anchored, host-validated URL matching, normalisation, yt-dlp options.

`default_registry().match(url)` tells which platform a URL belongs to and returns its canonical
form with per-platform yt-dlp options, or raises a typed `AudiograbError`.
"""

from audiograb.platforms.base import MatchedUrl, Platform
from audiograb.platforms.registry import PlatformRegistry, default_registry

__all__ = ["MatchedUrl", "Platform", "PlatformRegistry", "default_registry"]
