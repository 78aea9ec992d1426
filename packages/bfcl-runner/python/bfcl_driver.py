#!/usr/bin/env python3
"""perf-eval BFCL driver: run one BFCL category against an already running vLLM server.

Run it with the python of the BFCL virtualenv (bfcl-eval 2026.3.23, Python 3.10-3.12):

    python bfcl_driver.py --model <served id> --base-url http://localhost:<port> \
        --category <category> --num-threads <n> --temperature <t> --results-dir results/<name> \
        [--maximum-step-limit <n>] [--max-test-cases <n>]
    python bfcl_driver.py --check

The driver only prepares BFCL, calls its `generate` and `evaluate` in-process and exits 0. Scores
are read (and lm-eval-shaped results written) by @perf-eval/bfcl-runner in TypeScript from
`<results_dir>/.bfcl_work/<category>/score/`. Every failure exits non-zero with a `[bfcl] ...` line
on stderr.

`--check` imports only bfcl_eval's category mapping (no side effects) and prints one JSON line:
{"bfcl_eval_version": ..., "python": ..., "version_prefix": ..., "test_collection_mapping": {...}}.
"""

import argparse
import inspect
import json
import os
import sys
import traceback
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_STEP_LIMIT = 10
STEP_LIMIT_ENV = "BFCL_MAXIMUM_STEP_LIMIT"
MAX_CASES_ENV = "BFCL_MAX_TEST_CASES"


class DriverError(Exception):
    """A failure with a one-line `[bfcl] ...` message; the driver exits 1 with it."""


def say(line):
    print(line, flush=True)


def positive_int(raw, label):
    """Parse like upstream: int() semantics, >= 1; the value is repr-quoted when it did not parse."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise DriverError(f"[bfcl] {label} must be a positive integer, got {raw!r}")
    if value < 1:
        raise DriverError(f"[bfcl] {label} must be a positive integer, got {value}")
    return value


def resolve_limit(env_name, workload_value, workload_label):
    """env (non-empty) > workload value > None. Returns (value, source)."""
    env_value = os.environ.get(env_name, "")
    if env_value != "":
        return positive_int(env_value, env_name), f"env:{env_name}"
    if workload_value is not None:
        return positive_int(workload_value, workload_label), "workload"
    return None, None


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bfcl_driver.py", allow_abbrev=False)
    parser.add_argument("--check", action="store_true", help="print bfcl_eval version and category mapping")
    parser.add_argument("--model", help="served model id (becomes the BFCL registry key)")
    parser.add_argument("--base-url", help="server root, e.g. http://localhost:8000 (no /v1)")
    parser.add_argument("--category", help="BFCL leaf category or group")
    parser.add_argument("--num-threads", help="generate threads")
    parser.add_argument("--temperature", help="sampling temperature")
    parser.add_argument("--results-dir", help="results/<name>; the work dir is <results-dir>/.bfcl_work/<category>")
    parser.add_argument("--maximum-step-limit", default=None, help="workload maximum_step_limit")
    parser.add_argument("--max-test-cases", default=None, help="workload max_test_cases for this category")
    args = parser.parse_args(argv)
    if not args.check:
        missing = [
            flag
            for flag, value in (
                ("--model", args.model),
                ("--base-url", args.base_url),
                ("--category", args.category),
                ("--num-threads", args.num_threads),
                ("--temperature", args.temperature),
                ("--results-dir", args.results_dir),
            )
            if value is None or value == ""
        ]
        if missing:
            parser.error("the following arguments are required: " + ", ".join(missing))
    return args


def check():
    # category_mapping has no imports and no side effects (eval_config would create directories).
    from importlib.metadata import version

    from bfcl_eval.constants.category_mapping import TEST_COLLECTION_MAPPING, VERSION_PREFIX

    print(
        json.dumps(
            {
                "bfcl_eval_version": version("bfcl-eval"),
                "python": ".".join(str(part) for part in sys.version_info[:3]),
                "version_prefix": VERSION_PREFIX,
                "test_collection_mapping": TEST_COLLECTION_MAPPING,
            }
        ),
        flush=True,
    )
    return 0


def typer_defaults(func):
    """The Typer option defaults of a `bfcl_eval.__main__` command, by parameter name."""
    import typer

    defaults = {}
    for name, parameter in inspect.signature(func).parameters.items():
        default = parameter.default
        if isinstance(default, typer.models.OptionInfo):
            defaults[name] = default.default
        elif default is not inspect.Parameter.empty:
            defaults[name] = default
        else:
            raise DriverError(f"[bfcl] unsupported bfcl-eval: {func.__name__}() parameter {name!r} has no default")
    return defaults


def explicit_call(func, overrides):
    kwargs = typer_defaults(func)
    unknown = sorted(set(overrides) - set(kwargs))
    if unknown:
        raise DriverError(f"[bfcl] unsupported bfcl-eval: {func.__name__}() has no parameter(s) {', '.join(unknown)}")
    kwargs.update(overrides)
    return func(**kwargs)


def run(args):
    model = args.model
    category = args.category
    num_threads = positive_int(args.num_threads, "num_threads")
    try:
        temperature = float(args.temperature)
    except ValueError:
        raise DriverError(f"[bfcl] temperature must be a number, got {args.temperature!r}")

    # 1. Step limit: env > workload > 10.
    step_limit, step_source = resolve_limit(STEP_LIMIT_ENV, args.maximum_step_limit, "workload maximum_step_limit")
    if step_limit is None:
        step_limit, step_source = DEFAULT_STEP_LIMIT, "default"
    say(f"[bfcl] maximum_step_limit={step_limit} (from {step_source})")

    # 2. Max test cases: env > workload > none.
    max_cases, cases_source = resolve_limit(MAX_CASES_ENV, args.max_test_cases, "workload max_test_cases")

    # 3. A fresh work dir per category (perf-eval removes it before starting the driver).
    work_dir = (Path(args.results_dir) / ".bfcl_work" / category).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    if (work_dir / ".env").exists():
        # BFCL loads <project root>/.env with override=True, which would replace the env set below.
        raise DriverError(f"[bfcl] refusing to run: {work_dir / '.env'} would override the environment")

    # 4. Environment, before bfcl_eval is imported (paths are created at import time).
    parsed = urlparse(args.base_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DriverError(f"[bfcl] --base-url must be http(s)://<host>:<port>, got {args.base_url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    os.environ["OPENAI_BASE_URL"] = args.base_url.rstrip("/") + "/v1"
    os.environ["OPENAI_API_KEY"] = os.environ.get("OPENAI_API_KEY") or "dummy"
    os.environ["BFCL_PROJECT_ROOT"] = str(work_dir)
    os.environ["LOCAL_SERVER_ENDPOINT"] = parsed.hostname
    os.environ["LOCAL_SERVER_PORT"] = str(port)

    # Step limit: set the constant before any handler module does `from ... import MAXIMUM_STEP_LIMIT`.
    handler_module = "bfcl_eval.model_handler.base_handler"
    if handler_module in sys.modules:
        raise DriverError("[bfcl] internal error: BFCL handlers were imported before MAXIMUM_STEP_LIMIT was set")
    import bfcl_eval.constants.default_prompts as default_prompts

    default_prompts.MAXIMUM_STEP_LIMIT = step_limit

    import bfcl_eval.constants.model_config as model_config
    from bfcl_eval import __main__ as bfcl_main
    from bfcl_eval.constants.eval_config import PROJECT_ROOT, TEST_IDS_TO_GENERATE_PATH
    from bfcl_eval.eval_checker import eval_runner
    from bfcl_eval.model_handler import base_handler
    from bfcl_eval.model_handler.api_inference.openai_completion import OpenAICompletionsHandler
    from bfcl_eval.utils import is_memory_prereq, load_dataset_entry, parse_test_category_argument, sort_key, extract_test_category_from_id

    if base_handler.MAXIMUM_STEP_LIMIT != step_limit:
        raise DriverError(f"[bfcl] internal error: BFCL handlers see MAXIMUM_STEP_LIMIT={base_handler.MAXIMUM_STEP_LIMIT}, expected {step_limit}")
    if Path(PROJECT_ROOT).resolve() != work_dir:
        raise DriverError(f"[bfcl] internal error: BFCL project root is {PROJECT_ROOT}, expected {work_dir}")

    # 6. Model registration: the served model is the only registry entry (mutated in place, because
    # __main__, _llm_response_generation and eval_runner hold references to the same dict).
    config = model_config.ModelConfig(
        model_name=model,
        display_name=f"{model} (FC) (vLLM)",
        url=f"https://huggingface.co/{model}",
        org="",
        license="apache-2.0",
        model_handler=OpenAICompletionsHandler,
        input_price=None,
        output_price=None,
        is_fc_model=True,
        underscore_to_dot=True,
    )
    registry = model_config.MODEL_CONFIG_MAPPING
    registry.clear()
    registry[model] = config
    # evaluate() maps result directory names back with `_` -> `/`; a model id containing `_` would
    # otherwise raise KeyError there (tool-contracts 5.4).
    round_trip = model.replace("/", "_").replace("_", "/")
    if round_trip != model:
        registry[round_trip] = config

    # BFCL's CSV summaries are not used for scores (recipe-compat 10.5) and their writer crashes on
    # tiny subsets ("stdev requires at least two data points") after the score files are written.
    original_csv = eval_runner.generate_leaderboard_csv

    def tolerant_csv(*csv_args, **csv_kwargs):
        try:
            return original_csv(*csv_args, **csv_kwargs)
        except Exception as error:  # noqa: BLE001 - summaries are informational only
            say(f"[bfcl] warning: BFCL CSV summary failed ({type(error).__name__}: {error}); scores come from score files")
            return None

    eval_runner.generate_leaderboard_csv = tolerant_csv

    # 5. Subsampling.
    subsample = max_cases is not None
    if subsample:
        leaves = parse_test_category_argument([category])
        quota_base, extra = divmod(max_cases, len(leaves))
        selected = {}
        counts = []
        for index, leaf in enumerate(leaves):
            quota = quota_base + (1 if index < extra else 0)
            entries = sorted(load_dataset_entry(leaf), key=sort_key)
            # Memory prerequisite conversations are not test cases; they must run for the memory
            # entries to make sense, so they are always kept and not counted against the quota.
            prereq = [e["id"] for e in entries if is_memory_prereq(extract_test_category_from_id(e["id"]))]
            cases = [e["id"] for e in entries if not is_memory_prereq(extract_test_category_from_id(e["id"]))]
            chosen = cases[:quota]
            if chosen:
                selected[leaf] = prereq + chosen
            counts.append((leaf, len(chosen)))
        total = sum(count for _, count in counts)
        if total == 0:
            raise DriverError(f"[bfcl] max_test_cases={max_cases} but no cases found for {category}")
        Path(TEST_IDS_TO_GENERATE_PATH).write_text(json.dumps(selected, indent=2))
        if len(leaves) > 1:
            say("[bfcl] subsample per subcategory: " + ", ".join(f"{leaf}={count}" for leaf, count in counts))
        say(f"[bfcl] max_test_cases={total} for {category} (from {cases_source})")

    # 7. Generate.
    say(f"[bfcl] generate: model={model} category={category}")
    generate_overrides = {
        "model": [model],
        "test_category": [category],
        "temperature": temperature,
        "num_threads": num_threads,
        "skip_server_setup": True,
    }
    if subsample:
        generate_overrides["run_ids"] = True
        generate_overrides["allow_overwrite"] = True
    try:
        explicit_call(bfcl_main.generate, generate_overrides)
    except DriverError:
        raise
    except Exception as error:
        traceback.print_exc()
        raise DriverError(f"[bfcl] generate failed for {category}: {type(error).__name__}: {error}")

    # 8. Evaluate.
    say(f"[bfcl] evaluate: model={model} category={category}")
    evaluate_overrides = {"model": [model], "test_category": [category]}
    if subsample:
        evaluate_overrides["partial_eval"] = True
    try:
        explicit_call(bfcl_main.evaluate, evaluate_overrides)
    except DriverError:
        raise
    except Exception as error:
        traceback.print_exc()
        raise DriverError(f"[bfcl] evaluate failed for {category}: {type(error).__name__}: {error}")

    say(f"[bfcl] done: scores under {work_dir / 'score'}")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.check:
            return check()
        return run(args)
    except DriverError as error:
        print(str(error), file=sys.stderr, flush=True)
        return 1
    except ImportError as error:
        traceback.print_exc()
        print(f"[bfcl] cannot import bfcl_eval ({error}); run the driver with the BFCL virtualenv's python", file=sys.stderr, flush=True)
        return 1
    except Exception as error:  # noqa: BLE001 - one clear line after the traceback
        traceback.print_exc()
        print(f"[bfcl] failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
