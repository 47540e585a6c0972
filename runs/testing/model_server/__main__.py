"""`python -m runs.testing.model_server --port 8765`: serve the local test model in the foreground."""

from __future__ import annotations

import argparse

from runs.testing.model_server.server import ModelServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Deterministic OpenAI-compatible model server for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--word-delay", type=float, default=0.0, help="seconds between streamed words")
    args = parser.parse_args(argv)
    server = ModelServer(args.host, args.port)
    server.httpd.word_delay_s = args.word_delay
    print(f"Local test model server on {server.base_url} (any API key works except 'bad-key')", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
