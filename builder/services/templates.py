"""Shipped workflow templates: each a valid `trellis.graph/1` graph a new workflow can start from."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from builder.services.graph import GRAPH_FORMAT
from trellis.errors import ApplicationError


def _node(node_id: str, node_type: str, name: str, x: int, y: int, **config) -> dict:
    return {"id": node_id, "type": node_type, "name": name, "position": {"x": x, "y": y}, "config": config}


def _edges(*pairs: tuple) -> list[dict]:
    edges = []
    for pair in pairs:
        source, target, *port = pair
        edge = {"id": f"e_{source}_{port[0] + '_' if port else ''}{target}", "source": source, "target": target}
        if port:
            edge["source_port"] = port[0]
        edges.append(edge)
    return edges


def _graph(nodes: list[dict], edges: list[dict]) -> dict:
    return {"format": GRAPH_FORMAT, "nodes": nodes, "edges": edges}


MESSAGE_INPUT = {
    "type": "object",
    "properties": {"message": {"type": "string", "minLength": 1}},
    "required": ["message"],
}


def _customer_service() -> dict:
    intent_schema = {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": ["refund", "technical", "other"]},
            "summary": {"type": "string"},
        },
        "required": ["intent", "summary"],
        "additionalProperties": False,
    }
    return _graph(
        [
            _node("start", "start", "Start", 0, 0, input_schema=MESSAGE_INPUT, state={}),
            _node(
                "screen",
                "guardrails",
                "Screen message",
                240,
                0,
                text="workflow.input.message",
                checks=[{"type": "pii", "mode": "mask"}, {"type": "jailbreak", "threshold": 0.7}],
            ),
            _node(
                "classify",
                "agent",
                "Classify",
                480,
                0,
                model="gpt-4.1-mini",
                instructions="You triage customer messages. Classify the intent and summarise the request "
                "in one sentence.\n\nMessage: {{ nodes.screen.output.text }}",
                output={"type": "json_schema", "schema": intent_schema},
                temperature=0,
            ),
            _node(
                "route",
                "if_else",
                "Route by intent",
                720,
                0,
                cases=[
                    {"port": "refund", "label": "Refund", "condition": "nodes.classify.output.intent == 'refund'"},
                    {
                        "port": "technical",
                        "label": "Technical",
                        "condition": "nodes.classify.output.intent == 'technical'",
                    },
                ],
            ),
            _node(
                "refund_agent",
                "agent",
                "Refund specialist",
                960,
                -160,
                model="gpt-4.1-mini",
                instructions="Draft a refund decision for this request: {{ nodes.classify.output.summary }}",
            ),
            _node(
                "approve_refund",
                "user_approval",
                "Approve refund",
                1200,
                -160,
                message="Refund proposed for: {{ nodes.classify.output.summary }}\n\n{{ nodes.refund_agent.output }}",
                approvers="editor",
            ),
            _node(
                "refund_done",
                "end",
                "Refund approved",
                1440,
                -220,
                output={"status": "'refund_approved'", "reply": "nodes.refund_agent.output"},
            ),
            _node(
                "refund_rejected",
                "end",
                "Refund rejected",
                1440,
                -100,
                output={"status": "'refund_rejected'", "summary": "nodes.classify.output.summary"},
            ),
            _node(
                "tech_agent",
                "agent",
                "Technical support",
                960,
                0,
                model="gpt-4.1-mini",
                instructions="Answer this technical question step by step: {{ nodes.screen.output.text }}",
            ),
            _node(
                "tech_done",
                "end",
                "Answered",
                1200,
                0,
                output={"status": "'answered'", "reply": "nodes.tech_agent.output"},
            ),
            _node(
                "general_agent",
                "agent",
                "General reply",
                960,
                160,
                model="gpt-4.1-mini",
                instructions="Write a short, friendly reply to: {{ nodes.screen.output.text }}",
            ),
            _node(
                "general_done",
                "end",
                "Replied",
                1200,
                160,
                output={"status": "'replied'", "reply": "nodes.general_agent.output"},
            ),
            _node(
                "blocked",
                "end",
                "Blocked",
                480,
                200,
                output={"status": "'blocked'", "checks": "nodes.screen.output.checks"},
            ),
        ],
        _edges(
            ("start", "screen"),
            ("screen", "classify", "pass"),
            ("screen", "blocked", "fail"),
            ("classify", "route"),
            ("route", "refund_agent", "refund"),
            ("route", "tech_agent", "technical"),
            ("route", "general_agent", "else"),
            ("refund_agent", "approve_refund"),
            ("approve_refund", "refund_done", "approved"),
            ("approve_refund", "refund_rejected", "rejected"),
            ("tech_agent", "tech_done"),
            ("general_agent", "general_done"),
        ),
    )


def _data_enrichment() -> dict:
    return _graph(
        [
            _node(
                "start",
                "start",
                "Start",
                0,
                0,
                input_schema={
                    "type": "object",
                    "properties": {"username": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,39}$"}},
                    "required": ["username"],
                },
                state={},
            ),
            _node(
                "lookup",
                "http_request",
                "Look up profile",
                240,
                0,
                method="GET",
                url="https://api.github.com/users/{{ workflow.input.username }}",
                headers={"Accept": "application/vnd.github+json"},
                expect="json",
                timeout_s=15,
                retry={"max_attempts": 3, "backoff_s": 2},
            ),
            _node(
                "summarize",
                "agent",
                "Summarise",
                480,
                0,
                model="gpt-4.1-mini",
                instructions="Write a two-sentence profile summary from this data:\n{{ nodes.lookup.output.body }}",
            ),
            _node(
                "done",
                "end",
                "Done",
                720,
                0,
                output={
                    "name": "nodes.lookup.output.body.name",
                    "public_repos": "nodes.lookup.output.body.public_repos",
                    "summary": "nodes.summarize.output",
                },
            ),
        ],
        _edges(("start", "lookup"), ("lookup", "summarize"), ("summarize", "done")),
    )


def _planning_helper() -> dict:
    review_schema = {
        "type": "object",
        "properties": {"good_enough": {"type": "boolean"}, "feedback": {"type": "string"}},
        "required": ["good_enough", "feedback"],
        "additionalProperties": False,
    }
    return _graph(
        [
            _node(
                "start",
                "start",
                "Start",
                0,
                0,
                input_schema={
                    "type": "object",
                    "properties": {"goal": {"type": "string", "minLength": 1}},
                    "required": ["goal"],
                },
                state={"plan": "", "feedback": "", "done": False},
            ),
            _node(
                "refine",
                "while",
                "Refine until good",
                240,
                0,
                condition="!state.done",
                max_iterations=3,
            ),
            _node(
                "draft",
                "agent",
                "Draft plan",
                480,
                -120,
                model="gpt-4.1-mini",
                instructions="Write a concise step-by-step plan for: {{ workflow.input.goal }}\n"
                "Previous draft (round {{ loop.index }}): {{ state.plan }}\nReviewer feedback: {{ state.feedback }}",
            ),
            _node(
                "review",
                "agent",
                "Review plan",
                720,
                -120,
                model="gpt-4.1-mini",
                instructions="Review this plan for the goal '{{ workflow.input.goal }}'. Is it specific and "
                "complete?\n\n{{ nodes.draft.output }}",
                output={"type": "json_schema", "schema": review_schema},
                temperature=0,
            ),
            _node(
                "remember",
                "set_state",
                "Remember draft",
                960,
                -120,
                assignments=[
                    {"variable": "plan", "expression": "nodes.draft.output"},
                    {"variable": "feedback", "expression": "nodes.review.output.feedback"},
                    {"variable": "done", "expression": "nodes.review.output.good_enough"},
                ],
            ),
            _node("done", "end", "Plan", 480, 120, output={"plan": "state.plan", "feedback": "state.feedback"}),
        ],
        _edges(
            ("start", "refine"),
            ("refine", "draft", "loop"),
            ("draft", "review"),
            ("review", "remember"),
            ("remember", "refine"),
            ("refine", "done", "exit"),
        ),
    )


def _lead_qualification() -> dict:
    lead_schema = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "company_size": {"type": "string", "enum": ["small", "medium", "large", "unknown"]},
            "reason": {"type": "string"},
        },
        "required": ["score", "company_size", "reason"],
        "additionalProperties": False,
    }
    return _graph(
        [
            _node(
                "start",
                "start",
                "Start",
                0,
                0,
                input_schema={
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "message": {"type": "string"},
                    },
                    "required": ["email", "message"],
                },
                state={"score": 0},
            ),
            _node(
                "assess",
                "agent",
                "Assess lead",
                240,
                0,
                model="gpt-4.1-mini",
                instructions="Score this inbound lead from 0 to 100 for fit with a B2B software product.\n"
                "Email: {{ workflow.input.email }}\nMessage: {{ workflow.input.message }}",
                output={"type": "json_schema", "schema": lead_schema},
                temperature=0,
            ),
            _node(
                "keep_score",
                "set_state",
                "Keep score",
                480,
                0,
                assignments=[{"variable": "score", "expression": "nodes.assess.output.score"}],
            ),
            _node(
                "shape",
                "transform",
                "Build CRM record",
                720,
                0,
                output={
                    "email": "workflow.input.email",
                    "score": "state.score",
                    "tier": "state.score >= 70 ? 'hot' : (state.score >= 40 ? 'warm' : 'cold')",
                    "company_size": "nodes.assess.output.company_size",
                    "reason": "nodes.assess.output.reason",
                },
            ),
            _node("done", "end", "Done", 960, 0, output="nodes.shape.output"),
        ],
        _edges(("start", "assess"), ("assess", "keep_score"), ("keep_score", "shape"), ("shape", "done")),
    )


def _content_moderation() -> dict:
    return _graph(
        [
            _node(
                "start",
                "start",
                "Start",
                0,
                0,
                input_schema={
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "author": {"type": "string"}},
                    "required": ["text"],
                },
                state={},
            ),
            _node(
                "check",
                "guardrails",
                "Check content",
                240,
                0,
                text="workflow.input.text",
                checks=[
                    {"type": "moderation"},
                    {"type": "pii", "mode": "detect", "entities": ["email", "phone", "credit_card"]},
                    {"type": "custom", "name": "Not too long", "condition": "size(workflow.input.text) <= 5000"},
                ],
            ),
            _node(
                "publish",
                "end",
                "Allowed",
                480,
                -80,
                output={"decision": "'allow'", "text": "workflow.input.text"},
            ),
            _node(
                "reject",
                "end",
                "Rejected",
                480,
                80,
                output={"decision": "'reject'", "checks": "nodes.check.output.checks"},
            ),
        ],
        _edges(("start", "check"), ("check", "publish", "pass"), ("check", "reject", "fail")),
    )


def _order_router() -> dict:
    """No LLM: runs without a model key (transform, if/else, HTTP)."""
    return _graph(
        [
            _node(
                "start",
                "start",
                "Start",
                0,
                0,
                input_schema={
                    "type": "object",
                    "properties": {
                        "order_id": {"type": "string"},
                        "amount": {"type": "number", "minimum": 0},
                        "country": {"type": "string"},
                        "notify_url": {"type": "string"},
                    },
                    "required": ["order_id", "amount", "country"],
                },
                state={},
            ),
            _node(
                "normalize",
                "transform",
                "Normalise order",
                240,
                0,
                output={
                    "order_id": "workflow.input.order_id",
                    "amount": "double(workflow.input.amount)",
                    "country": "workflow.input.country.upperAscii()",
                    "domestic": "workflow.input.country.upperAscii() == 'US'",
                },
            ),
            _node(
                "route",
                "if_else",
                "Route",
                480,
                0,
                cases=[
                    {
                        "port": "review",
                        "label": "Large order",
                        "condition": "nodes.normalize.output.amount >= 1000.0",
                    },
                    {
                        "port": "international",
                        "label": "International",
                        "condition": "!nodes.normalize.output.domestic",
                    },
                ],
            ),
            _node(
                "notify",
                "http_request",
                "Notify review team",
                720,
                -120,
                method="POST",
                url="{{ has(workflow.input.notify_url) ? workflow.input.notify_url : 'https://httpbin.org/post' }}",
                headers={"Content-Type": "application/json"},
                body={"order_id": "nodes.normalize.output.order_id", "amount": "nodes.normalize.output.amount"},
                expect="json",
                timeout_s=10,
                on_error="continue",
            ),
            _node(
                "review_done",
                "end",
                "Sent to review",
                960,
                -120,
                output={"queue": "'review'", "order": "nodes.normalize.output"},
            ),
            _node(
                "intl_done",
                "end",
                "International",
                720,
                0,
                output={"queue": "'international'", "order": "nodes.normalize.output"},
            ),
            _node(
                "std_done",
                "end",
                "Standard",
                720,
                120,
                output={"queue": "'standard'", "order": "nodes.normalize.output"},
            ),
        ],
        _edges(
            ("start", "normalize"),
            ("normalize", "route"),
            ("route", "notify", "review"),
            ("notify", "review_done"),
            ("route", "intl_done", "international"),
            ("route", "std_done", "else"),
        ),
    )


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    description: str
    uses_llm: bool
    build: object

    def graph(self) -> dict:
        return copy.deepcopy(self.build())  # type: ignore[operator]

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


TEMPLATES: dict[str, Template] = {
    t.slug: t
    for t in [
        Template(
            "customer-service-triage",
            "Customer service triage",
            "Screen a message with guardrails, classify it with an agent (JSON output), route refunds, "
            "technical questions and the rest to specialist agents; refunds need an approval.",
            True,
            _customer_service,
        ),
        Template(
            "data-enrichment",
            "Data enrichment",
            "Look a GitHub user up over HTTP and have an agent summarise the profile.",
            True,
            _data_enrichment,
        ),
        Template(
            "planning-helper",
            "Planning helper",
            "Draft a plan, review it, and refine it in a While loop until the reviewer is satisfied.",
            True,
            _planning_helper,
        ),
        Template(
            "lead-qualification",
            "Lead qualification",
            "Score an inbound lead with an agent (JSON), keep the score in state and shape a CRM record.",
            True,
            _lead_qualification,
        ),
        Template(
            "content-moderation",
            "Content moderation",
            "Run moderation, PII and custom checks on user content and route to allow or reject.",
            True,
            _content_moderation,
        ),
        Template(
            "order-router",
            "Order router (no LLM)",
            "Normalise an order, route large and international orders, and notify a review endpoint. "
            "Needs no model key.",
            False,
            _order_router,
        ),
    ]
}


def template_get(slug) -> Template:
    template = TEMPLATES.get(slug) if isinstance(slug, str) else None
    if template is None:
        raise ApplicationError(
            "validation_error",
            f"Unknown template {slug!r}.",
            [{"field": "template", "message": f"One of: {', '.join(TEMPLATES)}."}],
        )
    return template
