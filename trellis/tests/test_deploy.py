"""Production safety: with DEBUG off, HTTPS on and HSTS set, Django's deploy checks are clean."""

import os
import subprocess
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRELLIS_", "SECURE_", "DEBUG"))}
    clean.update(DJANGO_SETTINGS_MODULE="trellis.settings", TRELLIS_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _security_issues(output: str) -> list[str]:
    return [line for line in output.splitlines() if "(security." in line]


def test_check_deploy_has_no_security_issues_behind_https_with_hsts(tmp_path):
    result = _check_deploy(tmp_path, DEBUG="false", TRELLIS_HTTPS="true", SECURE_HSTS_SECONDS="31536000")

    output = result.stdout + result.stderr
    assert "System check identified" in output, output  # it ran, rather than crashing
    assert _security_issues(output) == []


def test_check_deploy_names_what_is_missing_without_https(tmp_path):
    result = _check_deploy(tmp_path, DEBUG="false")

    issues = " ".join(_security_issues(result.stdout + result.stderr))
    assert "security.W004" in issues  # HSTS
    assert "security.W012" in issues  # session cookie not secure
    assert "security.W016" in issues  # CSRF cookie not secure
    assert "security.W008" in issues  # no HTTPS redirect
