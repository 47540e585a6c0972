"""The deployment files agree with the settings: compose services, and every environment name they set
is one trellis/settings.py actually reads (a typo would otherwise be silently ignored)."""

import re
from pathlib import Path

import yaml

BASE = Path(__file__).resolve().parents[2]
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "TRELLIS_PORT"}  # interpolated by compose itself


def settings_env_names() -> set[str]:
    source = (BASE / "trellis" / "settings.py").read_text()
    names = set(re.findall(r"env_\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    names |= set(re.findall(r"os\.environ(?:\.get)?[\(\[]\s*\"([A-Z][A-Z0-9_]*)\"", source))
    return names


def compose() -> dict:
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())


def test_settings_read_the_basic_names():
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TRELLIS_EXECUTOR", "TRELLIS_ENCRYPTION_KEY"} <= (
        settings_env_names()
    )


def test_compose_has_postgres_redis_web_worker_and_beat():
    services = compose()["services"]

    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg")  # PostgreSQL with pgvector
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["ports"] == ["${TRELLIS_PORT:-8000}:8000"]
    assert "celery -A trellis worker" in " ".join(services["worker"]["command"])
    assert "celery -A trellis beat" in " ".join(services["beat"]["command"])
    assert services["worker"]["cpu_shares"] < 1024  # the web server first when the CPU is contended


def test_every_env_name_compose_sets_for_trellis_is_a_setting():
    known = settings_env_names()
    for name in ("web", "worker", "beat"):
        env = compose()["services"][name]["environment"]

        assert set(env) - known == set(), name
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["TRELLIS_EXECUTOR"] == "celery"
        assert env["DEBUG"] == "false"


def test_web_and_workers_share_keys_so_secrets_decrypt_everywhere():
    services = compose()["services"]

    envs = [services[name]["environment"] for name in ("web", "worker", "beat")]
    assert all(e["SECRET_KEY"] == envs[0]["SECRET_KEY"] for e in envs)
    assert all(e["TRELLIS_ENCRYPTION_KEY"] == envs[0]["TRELLIS_ENCRYPTION_KEY"] for e in envs)
    assert ":?" in envs[0]["TRELLIS_ENCRYPTION_KEY"]  # compose refuses to start without it


def test_dockerfile_builds_the_front_end_then_the_python_image():
    dockerfile = (BASE / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.M)
    env_names = set(re.findall(r"^\s*(?:ENV\s+)?([A-Z][A-Z0-9_]+)=", dockerfile, flags=re.M))

    assert stages[0].startswith("node:") and stages[-1].startswith("python:3.11")
    assert "npm run build" in dockerfile
    assert "COPY --from=frontend" in dockerfile
    assert "TRELLIS_VAR_DIR" in env_names and "TRELLIS_VAR_DIR" in settings_env_names()


def test_env_example_names_only_settings_or_compose_variables():
    text = (BASE / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))

    assert names - settings_env_names() - COMPOSE_ONLY == set()
    assert {"SECRET_KEY", "TRELLIS_ENCRYPTION_KEY"} <= names


def test_readme_lists_every_setting():
    readme = (BASE / "README.md").read_text()

    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in readme)
    assert missing == [], f"add these to the README's configuration table: {missing}"
