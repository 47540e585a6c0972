"""Datasets and their items: create, edit (items are versioned), import CSV/JSONL, add runs."""

from __future__ import annotations

import csv
import io
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from builder.models import Workflow
from evals.graders import graders_check
from evals.models import Dataset, DatasetItem
from runs.models import Run
from trellis.errors import ApplicationError

MAX_NAME = 200
MAX_TAGS = 20
RESERVED_CSV_COLUMNS = ("input", "expected", "tags")


def _name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ApplicationError(
            "validation_error", f"A dataset needs a name (at most {MAX_NAME} characters).", [{"field": "name"}]
        )
    return name


@transaction.atomic
def dataset_create(*, workflow: Workflow, name, description: str = "", graders=None, by=None) -> Dataset:
    name = _name(name)
    graders = graders_check(graders if graders is not None else [])
    if Dataset.objects.filter(workflow=workflow, name=name).exists():
        raise ApplicationError("dataset_exists", f"A dataset named {name!r} already exists.", status=409)
    return Dataset.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        name=name,
        description=str(description or ""),
        graders=graders,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )


def dataset_update(*, dataset: Dataset, **changes) -> Dataset:
    unknown = set(changes) - {"name", "description", "graders"}
    if unknown:
        raise ApplicationError("validation_error", f"Unknown fields: {sorted(unknown)}.")
    if "name" in changes:
        dataset.name = _name(changes["name"])
    if "description" in changes:
        dataset.description = str(changes["description"] or "")
    if "graders" in changes:
        dataset.graders = graders_check(changes["graders"])
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:
        raise ApplicationError("dataset_exists", f"A dataset named {dataset.name!r} already exists.", status=409)
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    dataset.delete()


# --- items ------------------------------------------------------------------------------------------


def _clean_item(raw, where: str) -> dict:
    if not isinstance(raw, dict):
        raise ApplicationError("invalid_item", "An item is an object {input, expected?, tags?}.", [{"field": where}])
    unknown = set(raw) - {"input", "expected", "tags", "source_run"}
    if unknown:
        raise ApplicationError(
            "invalid_item", f"Unknown item fields: {sorted(unknown)}.", [{"field": where, "message": "Unknown field."}]
        )
    if not isinstance(raw.get("input"), dict):
        raise ApplicationError("invalid_item", "An item's input must be a JSON object.", [{"field": f"{where}.input"}])
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) and t for t in tags):
        raise ApplicationError(
            "invalid_item", f"tags must be a list of at most {MAX_TAGS} strings.", [{"field": f"{where}.tags"}]
        )
    item = {"input": raw["input"], "expected": raw.get("expected"), "tags": tags}
    size = len(json.dumps(item, ensure_ascii=False).encode())
    if size > settings.STEP_MAX_PAYLOAD_BYTES:
        raise ApplicationError(
            "invalid_item",
            f"The item is {size} bytes; the limit is {settings.STEP_MAX_PAYLOAD_BYTES}.",
            [{"field": where}],
        )
    return item


def items_add(*, dataset: Dataset, items: list, source_runs: list | None = None) -> list[DatasetItem]:
    """All of them or none: a bad item anywhere refuses the lot, naming it."""
    if not isinstance(items, list) or not items:
        raise ApplicationError("validation_error", "No items given.", [{"field": "items"}])
    limit = settings.EVAL_DATASET_MAX_ITEMS
    existing = dataset.items.filter(deleted_at__isnull=True).count()
    if existing + len(items) > limit:
        raise ApplicationError(
            "too_many_items",
            f"A dataset holds at most {limit} items (TRELLIS_EVAL_DATASET_MAX_ITEMS); "
            f"it has {existing} and {len(items)} were given.",
            status=422,
        )
    cleaned = [_clean_item(raw, f"items[{i}]") for i, raw in enumerate(items)]
    rows = [
        DatasetItem(dataset=dataset, source_run=(source_runs[i] if source_runs else None), **item)
        for i, item in enumerate(cleaned)
    ]
    with transaction.atomic():
        DatasetItem.objects.bulk_create(rows, batch_size=500)
        Dataset.objects.filter(pk=dataset.pk).update(updated_at=timezone.now())
    return rows


def item_update(*, item: DatasetItem, **changes) -> DatasetItem:
    unknown = set(changes) - {"input", "expected", "tags"}
    if unknown:
        raise ApplicationError("validation_error", f"Unknown fields: {sorted(unknown)}.")
    merged = _clean_item({"input": item.input, "expected": item.expected, "tags": item.tags, **changes}, "item")
    with transaction.atomic():
        locked = DatasetItem.objects.select_for_update().get(pk=item.pk)
        locked.input, locked.expected, locked.tags = merged["input"], merged["expected"], merged["tags"]
        locked.revision += 1
        locked.save()
        Dataset.objects.filter(pk=item.dataset_id).update(updated_at=timezone.now())
    return locked


def item_delete(*, item: DatasetItem) -> None:
    # Soft: evals that used the item keep pointing at it.
    with transaction.atomic():
        DatasetItem.objects.filter(pk=item.pk).update(deleted_at=timezone.now())
        Dataset.objects.filter(pk=item.dataset_id).update(updated_at=timezone.now())


def _required_input_fields(workflow: Workflow) -> list[str]:
    for node in (workflow.draft_graph or {}).get("nodes", []):
        if node.get("type") == "start":
            schema = (node.get("config") or {}).get("input_schema") or {}
            return [r for r in schema.get("required") or [] if isinstance(r, str)]
    return []


def _cell(value: str):
    """A CSV cell: JSON when it parses as JSON (numbers, objects, lists, true/false), else the text."""
    text = value.strip()
    if text and text[0] in '{["-0123456789tfn':
        try:
            return json.loads(text)
        except ValueError:
            pass
    return value


def parse_import(*, workflow: Workflow, content: bytes, fmt: str) -> list[dict]:
    """Items from CSV (a column per input field, or one `input` column of JSON; `expected`, `tags`) or
    JSONL (one item object per line). Raises ApplicationError naming the row."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError("invalid_import", "The file is not UTF-8 text.", status=400) from None
    items: list[dict] = []
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError as exc:
                raise ApplicationError(
                    "invalid_import", f"Line {number} is not JSON: {exc}.", [{"line": number}]
                ) from None
            if not isinstance(items[-1], dict):
                raise ApplicationError("invalid_import", f"Line {number} is not an object.", [{"line": number}])
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip() for c in (reader.fieldnames or []) if c is not None]
        if not columns:
            raise ApplicationError("invalid_import", "The CSV has no header row.", [{"line": 1}])
        input_columns = [c for c in columns if c not in RESERVED_CSV_COLUMNS]
        if "input" not in columns:
            missing = [f for f in _required_input_fields(workflow) if f not in input_columns]
            if missing:
                raise ApplicationError(
                    "invalid_import",
                    f"The CSV has no column for the required input field{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} (the start node's input schema requires "
                    f"{'them' if len(missing) > 1 else 'it'}).",
                    [{"column": name, "message": "Missing column."} for name in missing],
                )
            if not input_columns:
                raise ApplicationError("invalid_import", "The CSV has no input column.", [{"line": 1}])
        for number, row in enumerate(reader, start=2):
            if None in row:
                raise ApplicationError(
                    "invalid_import", f"Row {number} has more cells than the header.", [{"line": number}]
                )
            row = {k.strip(): v for k, v in row.items() if k is not None}
            if "input" in row:
                value = _cell(row["input"] or "")
                if not isinstance(value, dict):
                    raise ApplicationError(
                        "invalid_import", f"Row {number}: input must be a JSON object.", [{"line": number}]
                    )
            else:
                value = {c: _cell(row.get(c) or "") for c in input_columns}
            item: dict = {"input": value}
            if row.get("expected") not in (None, ""):
                item["expected"] = _cell(row["expected"])
            if row.get("tags"):
                item["tags"] = [t.strip() for t in row["tags"].replace(";", ",").split(",") if t.strip()]
            items.append(item)
    else:
        raise ApplicationError("validation_error", 'format must be "csv" or "jsonl".', [{"field": "format"}])
    if not items:
        raise ApplicationError("invalid_import", "The file holds no items.")
    return items


def items_import(*, dataset: Dataset, content: bytes, fmt: str) -> list[DatasetItem]:
    if len(content) > settings.EVAL_IMPORT_MAX_BYTES:
        raise import_too_large(len(content))
    return items_add(dataset=dataset, items=parse_import(workflow=dataset.workflow, content=content, fmt=fmt))


def import_too_large(size: int | None) -> ApplicationError:
    what = "The file is too large" if size is None else f"The file is {size} bytes"
    return ApplicationError(
        "payload_too_large",
        f"{what}; imports are limited to {settings.EVAL_IMPORT_MAX_BYTES} bytes (TRELLIS_EVAL_IMPORT_MAX_BYTES).",
        status=413,
    )


def items_export(*, items: list[DatasetItem], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(
            json.dumps({"input": i.input, "expected": i.expected, "tags": i.tags}, ensure_ascii=False) + "\n"
            for i in items
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["input", "expected", "tags"])
    for i in items:
        expected = "" if i.expected is None else (i.expected if isinstance(i.expected, str) else json.dumps(i.expected))
        writer.writerow([json.dumps(i.input, ensure_ascii=False), expected, ",".join(i.tags)])
    return out.getvalue()


def run_add_to_dataset(*, run: Run, dataset: Dataset, expected=None, has_expected: bool = False) -> DatasetItem:
    if dataset.workflow_id != run.workflow_id:
        raise ApplicationError(
            "validation_error", "The dataset belongs to another workflow.", [{"field": "dataset"}], status=422
        )
    value = expected if has_expected else run.output
    return items_add(dataset=dataset, items=[{"input": run.input, "expected": value}], source_runs=[run])[0]


def runs_add_to_dataset(*, dataset: Dataset, runs: list[Run]) -> list[DatasetItem]:
    if not runs:
        raise ApplicationError("no_runs", "No run matches this filter.", status=422)
    return items_add(
        dataset=dataset, items=[{"input": r.input, "expected": r.output} for r in runs], source_runs=list(runs)
    )
