from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "evals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from builder.services.publish import PUBLISH_GATES
        from evals.services.evals import eval_on_run_finishing, is_eval_run
        from evals.services.gate import publish_gate_check
        from evals.services.ticks import evals_tick
        from runs.finishing import FinishingListener, listen_to_finishing
        from runs.triggers.scheduler import TICK_HOOKS

        listen_to_finishing(FinishingListener(heard=eval_on_run_finishing, concerns=is_eval_run))
        if publish_gate_check not in PUBLISH_GATES:
            PUBLISH_GATES.append(publish_gate_check)
        if evals_tick not in TICK_HOOKS:
            TICK_HOOKS.append(evals_tick)
