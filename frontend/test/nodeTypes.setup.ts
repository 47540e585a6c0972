/**
 * Vitest setup: the node catalog the tests see is the server's own (builder.catalog, read through the
 * project's Python), so the front end is tested against the real entries, never a hand-kept copy.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { setNodeTypes } from "../src/nodes/registry";

const root = resolve(__dirname, "../..");
const python = process.env.TRELLIS_PYTHON ?? resolve(root, ".venv/bin/python");
const script = "import json; from builder.catalog import node_type_list; print(json.dumps(node_type_list()))";
setNodeTypes(JSON.parse(execFileSync(python, ["-c", script], { cwd: root, encoding: "utf8" })));
