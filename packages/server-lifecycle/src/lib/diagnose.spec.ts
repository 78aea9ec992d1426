import { readFileSync } from 'node:fs';
import { LOG_MAX_MODEL_LEN, LOG_NO_KV_CACHE, LOG_UNRECOGNIZED } from '../../test/helpers.js';
import { classifyServerLog, FailureScanner, stripLogPrefix } from './diagnose.js';

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n');

describe('classifyServerLog on real vLLM 0.25.1 logs', () => {
  it('unrecognized argument → bad_argument', () => {
    const diagnosis = classifyServerLog(linesOf(LOG_UNRECOGNIZED));
    expect(diagnosis.kind).toBe('bad_argument');
    expect(diagnosis.evidence).toBe('vllm: error: unrecognized arguments: --no-such-flag 3');
    expect(diagnosis.summary).toMatch(
      /^bad argument: vllm: error: unrecognized arguments: --no-such-flag 3 \(check vllm\.serve_args/,
    );
  });

  it('max_model_len too large → max_model_len', () => {
    const diagnosis = classifyServerLog(linesOf(LOG_MAX_MODEL_LEN));
    expect(diagnosis.kind).toBe('max_model_len');
    expect(diagnosis.evidence).toMatch(
      /^Value error, User-specified max_model_len \(999999\) is greater than the derived max_model_len/,
    );
  });

  it('no KV-cache memory (followed by the generic engine error) → out_of_memory', () => {
    const diagnosis = classifyServerLog(linesOf(LOG_NO_KV_CACHE));
    expect(diagnosis.kind).toBe('out_of_memory');
    expect(diagnosis.evidence).toMatch(/^ValueError: No available memory for the cache blocks\./);
  });

  it('keeps the root cause even when the tail has rolled past it', () => {
    const scanner = new FailureScanner();
    for (const line of linesOf(LOG_NO_KV_CACHE)) scanner.push(line);
    for (let i = 0; i < 1000; i++) scanner.push(`(APIServer pid=1) INFO shutdown noise ${i}`);
    expect(scanner.diagnose().kind).toBe('out_of_memory');
  });
});

describe('classifyServerLog signatures', () => {
  it.each([
    ['bad_argument', "vllm: error: argument --max-model-len: invalid int value: 'abc'"],
    ['out_of_memory', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB'],
    [
      'out_of_memory',
      "ValueError: To serve at least one request with the models's max seq len (131072), (16.0 GiB KV cache is needed, which is larger than the available KV cache memory (9.5 GiB).",
    ],
    [
      'model_not_found',
      'huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: Root=1-abc)',
    ],
    ['model_not_found', 'huggingface_hub.errors.GatedRepoError: 403 Client Error.'],
    [
      'model_not_found',
      "OSError: my-org/nope is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'",
    ],
    [
      'model_not_found',
      'requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/api/models/x',
    ],
    [
      'image_pull',
      "docker: Error response from daemon: pull access denied for vllm/nope, repository does not exist or may require 'docker login'",
    ],
    ['image_pull', 'docker: Error response from daemon: manifest unknown: manifest unknown'],
    ['image_pull', "Unable to find image 'vllm/vllm-openai:nightly-deadbeef' locally"],
    ['port_in_use', 'OSError: [Errno 98] Address already in use'],
    [
      'port_in_use',
      'docker: Error response from daemon: driver failed programming external connectivity: Bind for 0.0.0.0:8000 failed: port is already allocated',
    ],
    [
      'engine_init',
      '(APIServer pid=1) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}',
    ],
    ['unknown', 'Segmentation fault (core dumped)'],
  ])('%s ← %s', (kind, line) => {
    expect(
      classifyServerLog(['(APIServer pid=1) INFO 08-18 02:57:52 [api_utils.py:339] booting', line]).kind,
    ).toBe(kind);
  });

  it('the first specific cause wins over later ones and over the generic engine error', () => {
    const diagnosis = classifyServerLog([
      'RuntimeError: Engine core initialization failed.',
      'huggingface_hub.errors.GatedRepoError: 403 Client Error.',
      'torch.OutOfMemoryError: CUDA out of memory.',
    ]);
    expect(diagnosis.kind).toBe('model_not_found');
  });

  it('docker OOM-kill counts as out of memory when the log says nothing specific', () => {
    const scanner = new FailureScanner();
    scanner.push('Killed');
    expect(scanner.diagnose({ oomKilled: true }).kind).toBe('out_of_memory');
    expect(scanner.diagnose().kind).toBe('unknown');
  });

  it('strips process and logger prefixes from evidence', () => {
    expect(stripLogPrefix('(EngineCore pid=25) ERROR 08-18 02:57:12 [core.py:1231] ValueError: x')).toBe(
      'ValueError: x',
    );
    expect(stripLogPrefix('(APIServer pid=1) RuntimeError: y')).toBe('RuntimeError: y');
  });
});

describe('FailureScanner prefilter', () => {
  it('ignores routine INFO records but not ERROR/WARNING or bare traceback lines', () => {
    expect(
      classifyServerLog([
        '(APIServer pid=1) INFO 08-18 02:57:52 [x.py:1] hint: Address already in use is a common error',
      ]).kind,
    ).toBe('unknown');
    expect(
      classifyServerLog([
        '(EngineCore pid=2) ERROR 08-18 02:57:52 [x.py:1] OSError: [Errno 98] Address already in use',
      ]).kind,
    ).toBe('port_in_use');
    expect(classifyServerLog(['WARNING 08-18 02:57:52 [x.py:1] CUDA out of memory']).kind).toBe(
      'out_of_memory',
    );
  });

  it('a weak "Unable to find image" is superseded by a strong pull error', () => {
    const diagnosis = classifyServerLog([
      "Unable to find image 'a/b:c' locally",
      'docker: Error response from daemon: manifest unknown',
    ]);
    expect(diagnosis).toMatchObject({
      kind: 'image_pull',
      evidence: 'docker: Error response from daemon: manifest unknown',
    });
  });
});
