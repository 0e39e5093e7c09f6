"""Set catalog texts from a JSON file: ``python scripts/po_set.py TEXTS.json [ROOT]``, then
``pybabel compile -d panel_app/i18n/locale -D messages``.

The JSON maps a key to its texts: ``{"gate.resend": {"en": "...", "de": "..."}}``; a plural entry
gives each language ``[singular, plural]`` and names its count placeholder: ``"plural": "n"``.
Each entry replaces the key in the English and German ``.po`` files (their comments, the German
glossary included, are kept) and a new key is added to ``messages.pot``. A branch that adds texts
carries such a file, so a merge keeps one side's catalogs and applies the other's file again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LANGUAGES = ("en", "de")


def _add(catalog: Catalog, key: str, entry: dict, text: str | list[str]) -> None:
    if key in catalog:
        del catalog[key]
    plural = entry.get("plural")
    location = [(entry.get("loc") or key.split(".")[0], None)]
    if plural:
        forms = tuple(text) if isinstance(text, list) else (text, text)
        flags = ["python-brace-format"] if "{" in "".join(forms) else []
        catalog.add((key, "{" + plural + "}"), forms, locations=location, flags=flags)
    else:
        catalog.add(key, text, locations=location, flags=["python-brace-format"] if "{" in text else [])


def _rewrite(path: Path, change, **read_args) -> None:
    with open(path, "rb") as source:
        catalog = read_po(source, **read_args)
    change(catalog)
    with open(path, "wb") as target:
        write_po(target, catalog, width=76, sort_output=True, include_lineno=False)


def main(texts_path: str, root: str = ".") -> None:
    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    locale_dir = Path(root) / "panel_app" / "i18n" / "locale"
    for lang in LANGUAGES:
        _rewrite(locale_dir / lang / "LC_MESSAGES" / "messages.po",
                 lambda catalog, lang=lang: [_add(catalog, key, entry, entry[lang]) for key, entry in texts.items()],
                 locale=lang)
    template = locale_dir / "messages.pot"
    if template.exists():
        empty = {key: ["", ""] if entry.get("plural") else "" for key, entry in texts.items()}
        _rewrite(template, lambda catalog: [_add(catalog, key, entry, empty[key])
                                            for key, entry in texts.items() if key not in catalog])
    print(f"{len(texts)} texts set")


if __name__ == "__main__":
    main(*sys.argv[1:3])
