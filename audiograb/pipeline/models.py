"""The whisper models this service can use, and the languages they speak, for every face.

`/api/models`, `audiograb models`, the `/live` page's language menu and the bot offer what is
listed here, so nobody picks a language only to be refused after pressing Start.
"""

import msgspec

from audiograb.config import Settings
from audiograb.engines import whisper

__all__ = ["InstalledModels", "installed_models", "language_policy"]


class InstalledModels(msgspec.Struct, frozen=True, kw_only=True):
    """The installed models, the default one, the default per language, and every language
    some installed model speaks (English first, then by code)."""

    default_model: str
    per_language: dict[str, str]
    languages: tuple[str, ...]
    models: tuple[whisper.InstalledModel, ...]


def language_policy(settings: Settings) -> whisper.LanguagePolicy:
    """The model choices the settings make (`whisper_model`, `whisper_language_models`)."""
    return whisper.LanguagePolicy(
        default_model=settings.whisper_model,
        per_language=settings.whisper_language_map,
        cache_dir=settings.model_root,
    )


def installed_models(policy: whisper.LanguagePolicy) -> InstalledModels:
    """What is installed now (reads folders and vocabularies: run it in a worker thread)."""
    models = tuple(policy.installed())
    spoken = {language for model in models for language in model.languages}
    return InstalledModels(
        default_model=policy.default_model or whisper.BUNDLED_MODEL,
        per_language=dict(policy.per_language),
        languages=tuple(sorted(spoken, key=lambda code: (code != whisper.ENGLISH, code))),
        models=models,
    )
