import { FileReadError, pyStr, readRegularFileSync, toPlain, type PyValue } from '@perf-eval/util';
import { DiagnosticCollector, didYouMean } from './diagnostics.js';
import { ProfileInvalidError } from './errors.js';
import { GpuProfileSchema, KNOWN_KEYS, PARSE_OPTIONS } from './schema.js';
import { isMap } from './validate.js';
import { loadYaml11, MAX_YAML_BYTES } from './yaml11.js';

export type ServerRuntime = 'docker' | 'native' | 'sim';

export interface GpuProfile {
  name: string;
  queue: string;
  hfHome?: string;
  /** Baseline server env, values rendered the Python way, in file order. */
  env: Record<string, string>;
  serverRuntime: ServerRuntime;
  k8sPlugin?: 'nvidia' | 'amd';
  imageRepo?: string;
  hfCacheVolume?: Record<string, unknown>;
  ecrPullThroughCache: boolean;
}

export interface GpuProfiles {
  path: string;
  /** Profile names in file order (error messages list them in this order). */
  names: string[];
  byName: Map<string, GpuProfile>;
}

const cache = new Map<string, GpuProfiles>();

function renderEnv(env: PyValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (isMap(env)) for (const [key, value] of Object.entries(env)) out[key] = pyStr(value);
  return out;
}

/** Parse and validate a GPU profiles document (upstream format plus `sim` runtime and `ecr_pull_through_cache`). */
export function parseProfiles(text: string, path: string): GpuProfiles {
  const loaded = loadYaml11(text);
  const out = new DiagnosticCollector(path, loaded.nodes);
  if (loaded.errors.length > 0) {
    throw new ProfileInvalidError(
      path,
      loaded.errors.map((e) => ({
        severity: 'error' as const,
        file: path,
        line: e.line,
        col: e.col,
        path: '',
        message: e.message,
      })),
    );
  }
  const data = loaded.data;
  if (!isMap(data) || Object.keys(data).length === 0) {
    out.error([], 'the GPU profiles file must be a non-empty map of GPU name to profile', [0]);
    throw new ProfileInvalidError(path, out.sorted('error'));
  }
  const byName = new Map<string, GpuProfile>();
  for (const [name, raw] of Object.entries(data)) {
    if (!isMap(raw)) {
      out.error([name], `profile '${name}' must be a map`, [1]);
      continue;
    }
    for (const key of Object.keys(raw)) {
      if (!KNOWN_KEYS.profile.includes(key)) {
        out.error(
          [name, key],
          `unknown field '${name}.${key}'${didYouMean(key, KNOWN_KEYS.profile)}`,
          [1],
          true,
        );
      }
    }
    const runtime = raw['server_runtime'] ?? 'docker';
    const plugin = raw['k8s_plugin'];
    if (runtime === 'native' && (plugin === undefined || plugin === null)) {
      out.error(
        [name],
        `profile '${name}' sets server_runtime: native but no k8s_plugin; set one explicitly (have nvidia, amd)`,
        [1],
        true,
      );
    } else if (plugin !== undefined && plugin !== null && plugin !== 'nvidia' && plugin !== 'amd') {
      out.error([name, 'k8s_plugin'], `unknown k8s_plugin '${pyStr(plugin)}' (have nvidia, amd)`, [1]);
    }
    const volume = raw['hf_cache_volume'];
    if (isMap(volume) && 'name' in volume) {
      out.error(
        [name, 'hf_cache_volume', 'name'],
        `profile '${name}' hf_cache_volume must not set 'name' (the volume is always named hf-cache)`,
        [1],
        true,
      );
    }
    const parsed = GpuProfileSchema.safeParse(toPlain(raw), PARSE_OPTIONS);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = [name, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
        if (!out.covers(path)) out.error(path, `${path.join('.')}: ${issue.message}`, [2]);
      }
      continue;
    }
    const value = parsed.data;
    const profile: GpuProfile = {
      name,
      queue: value.queue,
      env: renderEnv(raw['env'] as PyValue),
      serverRuntime: (value.server_runtime ?? 'docker') as ServerRuntime,
      ecrPullThroughCache: value.ecr_pull_through_cache ?? true,
    };
    if (value.hf_home) profile.hfHome = value.hf_home;
    if (value.k8s_plugin) profile.k8sPlugin = value.k8s_plugin;
    if (value.image_repo) profile.imageRepo = value.image_repo;
    if (value.hf_cache_volume) profile.hfCacheVolume = value.hf_cache_volume;
    byName.set(name, profile);
  }
  if (out.errorCount > 0) throw new ProfileInvalidError(path, out.sorted('error'));
  return { path, names: Object.keys(data), byName };
}

/** Library wording: callers pass a path (or parsed profiles); the CLI words it as its `--profiles` flag. */
const PROFILES_HINT =
  'pass the path of your GPU profiles file (the profilesPath option, or parseProfiles(text, path) as the profiles option) or set PERF_EVAL_PROFILES';

/** Load (and cache per process) a GPU profiles file. */
export function loadProfiles(path: string): GpuProfiles {
  const cached = cache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = readRegularFileSync(path, { maxBytes: MAX_YAML_BYTES });
  } catch (error) {
    if (!(error instanceof FileReadError)) throw error;
    throw new ProfileInvalidError(path, [], {
      cause: error,
      message: `cannot read GPU profiles file ${path}: ${error.reason}; ${PROFILES_HINT}`,
    });
  }
  const profiles = parseProfiles(text, path);
  cache.set(path, profiles);
  return profiles;
}
