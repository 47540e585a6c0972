import type { TransformConfig } from "./types";

export const transformDefaults = (): TransformConfig => ({ output: { value: "input" } });
