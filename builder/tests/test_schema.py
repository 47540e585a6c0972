import pytest


@pytest.mark.django_db
def test_the_builder_api_is_documented_without_schema_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    GENERATOR_STATS.silent = True
    schema = SchemaGenerator().get_schema(request=None, public=True)

    ours = [w for w in GENERATOR_STATS._warn_cache if "builder/" in w]
    ours += [e for e in GENERATOR_STATS._error_cache if "builder/" in e]
    assert ours == []
    assert {
        "/api/v1/node-types",
        "/api/v1/templates",
        "/api/v1/workflows",
        "/api/v1/workflows/import",
        "/api/v1/workflows/{workflow_id}/draft",
        "/api/v1/workflows/{workflow_id}/validate",
        "/api/v1/workflows/{workflow_id}/publish",
        "/api/v1/workflows/{workflow_id}/versions/{a}/diff/{b}",
        "/api/v1/workflows/{workflow_id}/versions/{number}/restore",
        "/api/v1/workflows/{workflow_id}/versions/{number}/publish",
    } <= set(schema["paths"])
