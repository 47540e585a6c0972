"""Files and fine-tuning jobs on the local model server: `/v1/files` (multipart upload, retrieve),
`/v1/fine_tuning/jobs` (create, retrieve, list, events, cancel).

Deterministic: a job moves one state further each time it is retrieved (validating_files → queued →
running → succeeded), logging an event for each, so a poller sees it finish after a few polls. A training
file that contains `[[ft-fail]]` makes the job fail while running; one with a line that is not JSON is
refused at creation. A succeeded job's `ft:` model is then listed and served (replies.py answers
recognisably differently for it)."""

from __future__ import annotations

import json
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runs.testing.model_server.server import Handler

STEPS = ("validating_files", "queued", "running", "succeeded")
TERMINAL = ("succeeded", "failed", "cancelled")
METHODS = ("supervised", "dpo", "reinforcement")


def _file_object(f: dict) -> dict:
    return {k: f[k] for k in ("id", "object", "bytes", "created_at", "filename", "purpose", "status")}


def upload(handler: Handler, raw: bytes) -> None:
    content_type = handler.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return handler.send_error_json(400, "Upload the file as multipart/form-data.", "invalid_request_error")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    if "file" not in fields or "purpose" not in fields:
        return handler.send_error_json(400, "Missing 'file' or 'purpose'.", "invalid_request_error")
    filename, content = fields["file"]
    purpose = fields["purpose"][1].decode()
    state = handler.server
    with state.lock:
        file_id = "file-" + uuid.uuid4().hex[:24]
        state.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename or "upload.jsonl",
            "purpose": purpose,
            "status": "processed",
            "content": content,
        }
        answer = _file_object(state.files[file_id])
    handler.send_json(200, answer)


def _event(job: dict, message: str, level: str = "info") -> None:
    job["_events"].append(
        {
            "object": "fine_tuning.job.event",
            "id": "ftevent-" + uuid.uuid4().hex[:20],
            "created_at": int(time.time()),
            "level": level,
            "message": message,
            "type": "message",
            "data": {},
        }
    )


def _public(job: dict) -> dict:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def create_job(handler: Handler, body: dict) -> None:
    state = handler.server
    model = body.get("model")
    training_file = body.get("training_file")
    method = body.get("method") or {"type": "supervised"}
    if not isinstance(model, str) or not model:
        return handler.send_error_json(400, "Missing 'model'.", "invalid_request_error", "missing_model")
    if method.get("type") not in METHODS:
        return handler.send_error_json(400, f"method.type must be one of {METHODS}.", "invalid_request_error")
    if method["type"] == "reinforcement" and not (method.get("reinforcement") or {}).get("grader"):
        return handler.send_error_json(400, "Reinforcement fine-tuning needs a grader.", "invalid_request_error")
    with state.lock:
        f = state.files.get(training_file)
        if f is None:
            return handler.send_error_json(404, f"No such file: {training_file}", "invalid_request_error")
        lines = [line for line in f["content"].decode("utf-8", "replace").splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            try:
                json.loads(line)
            except ValueError:
                return handler.send_error_json(
                    400, f"Line {number} of the training file is not JSON.", "invalid_request_error", "invalid_file"
                )
        job_id = "ftjob-" + uuid.uuid4().hex[:24]
        job = {
            "id": job_id,
            "object": "fine_tuning.job",
            "model": model,
            "created_at": int(time.time()),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": "org-trellis-test",
            "result_files": [],
            "status": "validating_files",
            "validation_file": body.get("validation_file"),
            "training_file": training_file,
            "hyperparameters": (method.get(method["type"]) or {}).get("hyperparameters") or {},
            "method": method,
            "trained_tokens": None,
            "error": None,
            "seed": body.get("seed") or 42,
            "suffix": body.get("suffix"),
            "estimated_finish": None,
            "integrations": [],
            "metadata": body.get("metadata"),
            "_fail": "[[ft-fail]]" in f["content"].decode("utf-8", "replace"),
            "_examples": len(lines),
            "_events": [],
        }
        _event(job, f"Validating training file: {training_file}")
        state.jobs[job_id] = job
        answer = _public(job)
    handler.send_json(200, answer)


def _advance(state, job: dict) -> None:
    if job["status"] in TERMINAL:
        return
    following = STEPS[STEPS.index(job["status"]) + 1]
    if following == "succeeded" and job["_fail"]:
        job["status"] = "failed"
        job["finished_at"] = int(time.time())
        job["error"] = {"code": "invalid_training_data", "message": "The training data asked to fail.", "param": None}
        _event(job, "Training failed: the training data asked to fail.", "error")
        return
    job["status"] = following
    if following == "queued":
        _event(job, "Files validated, moving job to queued state")
    elif following == "running":
        _event(job, f"Fine-tuning job started ({job['_examples']} examples)")
    else:
        suffix = job.get("suffix") or "trellis"
        job["fine_tuned_model"] = f"ft:{job['model']}:{suffix}::{job['id'][-8:]}"
        job["finished_at"] = int(time.time())
        job["trained_tokens"] = 1000 * job["_examples"]
        state.fine_tuned_models.append(job["fine_tuned_model"])
        _event(job, f"New fine-tuned model created: {job['fine_tuned_model']}")
        _event(job, "The job has successfully completed")


def get(handler: Handler, path: str) -> bool:
    """GET routes of this module; False when the path is not one of them."""
    state = handler.server
    parts = path.strip("/").split("/")  # v1 fine_tuning jobs <id> [events]
    if parts[:3] != ["v1", "fine_tuning", "jobs"]:
        if parts[:2] == ["v1", "files"] and len(parts) == 3:
            with state.lock:
                f = state.files.get(parts[2])
                answer = _file_object(f) if f else None
            if answer is None:
                handler.send_error_json(404, "No such file.", "invalid_request_error")
            else:
                handler.send_json(200, answer)
            return True
        return False
    with state.lock:
        if len(parts) == 3:
            data = [_public(j) for j in reversed(list(state.jobs.values()))]
            answer = {"object": "list", "data": data, "has_more": False}
        else:
            job = state.jobs.get(parts[3])
            if job is None:
                answer = None
            elif len(parts) == 5 and parts[4] == "events":
                answer = {"object": "list", "data": list(reversed(job["_events"])), "has_more": False}
            else:
                _advance(state, job)
                answer = _public(job)
    if answer is None:
        handler.send_error_json(404, f"No such job: {parts[3]}", "invalid_request_error")
    else:
        handler.send_json(200, answer)
    return True


def cancel(handler: Handler, job_id: str) -> None:
    state = handler.server
    with state.lock:
        job = state.jobs.get(job_id)
        if job is None:
            return handler.send_error_json(404, f"No such job: {job_id}", "invalid_request_error")
        if job["status"] in TERMINAL:
            return handler.send_error_json(400, f"Job {job_id} has already {job['status']}.", "invalid_request_error")
        job["status"] = "cancelled"
        job["finished_at"] = int(time.time())
        _event(job, "Fine-tuning job cancelled")
        answer = _public(job)
    handler.send_json(200, answer)
