"""schema.org JSON-LD for model pages, so search engines read what the page is about."""

from __future__ import annotations

from typing import Any

from .catalog import Catalog
from .render import _markdown, is_plain_prose

TEXT_TOKENS = {"text", "code_inline"}
BREAK_TOKENS = {"softbreak", "hardbreak"}


def markdown_text(text: str) -> str:
    """The words of a markdown text without its markup: '**dense** model' → 'dense model'.
    Plain paragraphs (see render.markdown_block) are their own words."""
    if is_plain_prose(text):
        return " ".join(text.split())
    return _markdown_words(text)


def _markdown_words(text: str) -> str:
    words = []
    for block in _markdown().parse(text):
        for token in block.children or ():
            if token.type in TEXT_TOKENS:
                words.append(token.content)
            elif token.type in BREAK_TOKENS:
                words.append(" ")
        if block.type == "paragraph_close":
            words.append(" ")
    return " ".join("".join(words).split())


def model_jsonld(catalog: Catalog, model_id: str) -> dict[str, Any]:
    """A SoftwareApplication (schema.org has no type for model weights) with its maker, date and license."""
    model = catalog.models[model_id]
    organization = catalog.organizations[model.organization]
    license = catalog.licenses[model.license_id]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "name": model.name,
        "alternateName": list(model.aliases),
        "description": markdown_text(model.summary),
        "url": catalog.site.base_url.rstrip("/") + f"/models/{model_id}/",
        "applicationCategory": "AI model",
        "datePublished": str(model.released),
        "creator": {"@type": "Organization", "name": organization.name, "url": organization.url},
        "license": license.url,
    }
    if not model.aliases:
        del data["alternateName"]
    if model.huggingface_repo:
        data["sameAs"] = [f"https://huggingface.co/{model.huggingface_repo}"]
    return data
