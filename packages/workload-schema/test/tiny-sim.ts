/** A GPU profiles file with one profile, SIM (the simulator runtime on a CPU queue). */
export const SIM_PROFILES = `SIM:
  queue: cpu
  server_runtime: sim
`;

/** A valid recipe for SIM: one bench config, run at concurrency 2 (`short-conc-2`). */
export const TINY_SIM_RECIPE = `name: tiny-sim
gpu: SIM
num_gpus: 1
vllm:
  model: Qwen/Qwen3-0.6B
  serve_args: --max-model-len 4096
vllm_bench:
  configs:
    - {name: short, input_len: 128, output_len: 32, num_prompts: 8, max_concurrency: 2}
`;
