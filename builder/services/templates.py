"""Shipped workflow templates: `builder/templates/<slug>.json`, each a valid `trellis.graph/1` graph
with its listing metadata. Read at import; every caller gets its own copy of a graph."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from trellis.errors import ApplicationError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    description: str
    uses_llm: bool
    order: int
    source: dict

    def graph(self) -> dict:
        return copy.deepcopy(self.source)

    def as_dict(self, with_graph: bool = True) -> dict:
        out = {
            "id": self.slug,
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "uses_llm": self.uses_llm,
        }
        if with_graph:
            out["graph"] = self.graph()
        return out


def _load() -> dict[str, Template]:
    templates = []
    for path in TEMPLATE_DIR.glob("*.json"):
        doc = json.loads(path.read_text())
        templates.append(
            Template(
                slug=doc["slug"],
                name=doc["name"],
                description=doc["description"],
                uses_llm=doc["uses_llm"],
                order=doc["order"],
                source=doc["graph"],
            )
        )
    return {t.slug: t for t in sorted(templates, key=lambda t: t.order)}


TEMPLATES: dict[str, Template] = _load()


def template_get(slug) -> Template:
    template = TEMPLATES.get(slug) if isinstance(slug, str) else None
    if template is None:
        raise ApplicationError(
            "validation_error",
            f"Unknown template {slug!r}.",
            [{"field": "template", "message": f"One of: {', '.join(TEMPLATES)}."}],
        )
    return template
