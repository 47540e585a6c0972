"""Writes for the data flywheel, one module per entity: feedback, datasets, evals, the publish gate,
fine-tuning."""
