/**
 * The small local tokenizer of the GPU-free stack. `vllm bench serve --dataset-name random` needs a
 * tokenizer loadable from disk, and no model hub is reachable in CI, so `perf-eval setup` trains a
 * byte-level BPE on generated text (deterministic, offline) and saves it as a directory that
 * transformers' `AutoTokenizer` loads as a fast tokenizer. Token counts differ from the simulator's own
 * tokenizer; that is fine for the demo and the contract tests.
 */

export const SIM_TOKENIZER_VOCAB = 4096;

/** Run as `python build_tokenizer.py OUT_DIR`; needs only the `tokenizers` package. */
export const BUILD_TOKENIZER_PY = `"""Build perf-eval's offline byte-level BPE tokenizer (sim-bpe). Usage: build_tokenizer.py OUT_DIR"""
import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

VOCAB_SIZE = ${SIM_TOKENIZER_VOCAB}
WORDS = """the a an of to in and or is was are were be been has have had will would can could
should may might must shall do does did not no yes all any some many much more most few less
each every other another such what which who whom whose when where why how this that these those
he she it they we you i me him her them us my your his its our their mine yours
time year people way day man woman child world life hand part place case week company system
program question work government number night point home water room mother area money story fact
month lot right study book eye job word business issue side kind head house service friend father
power hour game line end member law car city community name president team minute idea kid body
information back parent face others level office door health person art war history party result
change morning reason research girl guy moment air teacher force education apple orange banana
store market price cost dollar cent pound kilogram meter mile hour second minute train bus ticket
buy sell pay earn spend save give take make get go come see look find think know want use tell
ask work seem feel try leave call need become put mean keep let begin help talk turn start show
hear play run move like live believe hold bring happen write provide sit stand lose add grow
open walk win offer remember love consider appear wait serve die send expect build stay fall cut
reach kill remain suggest raise pass sell require report decide pull half twice double triple
total each per percent rate speed distance average sum difference product quotient remainder
first second third fourth fifth last next new old good bad great small large big little long
short high low early late young important few public same able red blue green white black""".split()
PUNCT = [".", ",", "?", "!", ":", ";", "$", "%", "#", "=", "+", "-", "*", "/", "(", ")", "<<", ">>"]


def corpus():
    state = 20261122
    def rand(n):
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return (state >> 33) % n
    for _ in range(30000):
        words = []
        for _ in range(6 + rand(24)):
            pick = rand(10)
            if pick < 7:
                word = WORDS[rand(len(WORDS))]
                words.append(word.capitalize() if rand(8) == 0 else word)
            elif pick < 9:
                words.append(str(rand(10 ** (1 + rand(5)))))
            else:
                words.append(PUNCT[rand(len(PUNCT))])
        yield " ".join(words) + ("\\n#### " + str(rand(1000)) if rand(4) == 0 else ".")


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|pad|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    tok.save(str(out / "tokenizer.json"))
    eos = "<|endoftext|>"
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 131072,
        "bos_token": None,
        "eos_token": eos,
        "pad_token": "<|pad|>",
        "unk_token": None,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
    }, indent=2) + "\\n")
    (out / "special_tokens_map.json").write_text(json.dumps({"eos_token": eos, "pad_token": "<|pad|>"}, indent=2) + "\\n")
    # A minimal config.json: without one, vLLM's get_tokenizer() fails to parse the model config
    # ("Should have a model_type key") and retries for ~2 s before falling back.
    (out / "config.json").write_text(json.dumps({
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": tok.get_vocab_size(),
        "n_positions": 131072,
        "eos_token_id": tok.token_to_id(eos),
        "bos_token_id": tok.token_to_id(eos),
    }, indent=2) + "\\n")
    sample = "Natalia sold 48 clips in April, and half as many in May. #### 72"
    ids = tok.encode(sample).ids
    assert tok.decode(ids) == sample, "round trip failed"
    print(f"wrote {out} vocab={tok.get_vocab_size()} sample_tokens={len(ids)}")


if __name__ == "__main__":
    main()
`;
