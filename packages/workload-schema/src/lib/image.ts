/** Image and vLLM commit resolution (recipe-compat.md §6, with the D25/D26 fixes). */

export interface ImageRef {
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parse `[registry[:port]/]repo[:tag][@digest]` (D26: a registry port is not a tag). */
export function parseImageRef(reference: string): ImageRef {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  let registry: string | undefined;
  const first = rest.indexOf('/');
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost') {
      registry = head;
      rest = rest.slice(first + 1);
    }
  }
  const ref: ImageRef = { repository: rest };
  if (registry !== undefined) ref.registry = registry;
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

const NIGHTLY_TAG = /^nightly-([0-9a-f]{7,40})(?:[-_.].*)?$/i;
const HEX_RUN = /(?:^|[-_.])([0-9a-f]{12,40})(?=$|[-_.])/i;

/** The vLLM commit encoded in an image tag (`nightly-<sha>`, or a 12–40 hex run), else `''`. */
export function extractCommit(reference: string): string {
  const tag = parseImageRef(reference).tag;
  if (!tag) return '';
  const nightly = NIGHTLY_TAG.exec(tag);
  if (nightly) return nightly[1] as string;
  const run = HEX_RUN.exec(tag);
  return run ? (run[1] as string) : '';
}

export interface ImageInputs {
  /** env VLLM_IMAGE (trimmed by the resolver). */
  vllmImage?: string | undefined;
  /** env VLLM_COMMIT (trimmed by the resolver). */
  vllmCommit?: string | undefined;
  /** The profile's image_repo; its presence means "accept VLLM_IMAGE only if it is a ROCm image". */
  imageRepo?: string | undefined;
  /** The recipe's vllm.image. */
  recipeImage?: string | undefined;
}

export interface ResolvedImage {
  image: string;
  commit: string;
  /** Which rule produced the image, for `plan` and logs. */
  rule: 'VLLM_IMAGE' | 'nightly-commit' | 'vllm.image' | 'nightly';
  /** Set when VLLM_IMAGE was ignored (a CUDA image on a ROCm profile). */
  warning?: string;
}

export function resolveImage(inputs: ImageInputs): ResolvedImage {
  const envImage = (inputs.vllmImage ?? '').trim();
  const envCommit = (inputs.vllmCommit ?? '').trim();
  const repo = inputs.imageRepo || 'vllm/vllm-openai';
  if (envImage && (!inputs.imageRepo || envImage.toLowerCase().includes('rocm'))) {
    return { image: envImage, commit: envCommit || extractCommit(envImage), rule: 'VLLM_IMAGE' };
  }
  // D25: on a ROCm profile a CUDA VLLM_IMAGE is ignored; only an explicit VLLM_COMMIT picks a nightly.
  const ignored = envImage
    ? `VLLM_IMAGE '${envImage}' is not a ROCm image and is ignored on this profile (image_repo ${repo})`
    : undefined;
  const commit = envImage && inputs.imageRepo ? envCommit : envCommit || extractCommit(envImage);
  let resolved: ResolvedImage;
  if (commit) {
    resolved = { image: `${repo}:nightly-${commit}`, commit, rule: 'nightly-commit' };
  } else if (inputs.recipeImage) {
    resolved = { image: inputs.recipeImage, commit: extractCommit(inputs.recipeImage), rule: 'vllm.image' };
  } else {
    resolved = { image: `${repo}:nightly`, commit: '', rule: 'nightly' };
  }
  if (ignored) resolved.warning = ignored;
  return resolved;
}
