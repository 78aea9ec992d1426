import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { SIM_PROFILES, TINY_SIM_RECIPE } from '../../test/tiny-sim.js';
import { ProfileInvalidError } from './errors.js';
import { loadWorkloadText } from './load.js';
import { loadProfiles, parseProfiles } from './profiles.js';

describe('GPU profiles for library callers', () => {
  it('an unreadable file names the path and the library options, not a CLI flag', () => {
    const missing = join(tmpdir(), 'perf-eval-no-such-dir', 'gpu_profiles.yaml');
    let error: unknown;
    try {
      loadProfiles(missing);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProfileInvalidError);
    expect((error as ProfileInvalidError).code).toBe('E_PROFILE_INVALID');
    expect((error as ProfileInvalidError).message).toBe(
      `cannot read GPU profiles file ${missing}: not found; pass the path of your GPU profiles file (the profilesPath option, or parseProfiles(text, path) as the profiles option) or set PERF_EVAL_PROFILES`,
    );
    expect((error as ProfileInvalidError).message).not.toContain('--profiles');
  });

  it('profiles parsed from text resolve a recipe without any file on disk', () => {
    const profiles = parseProfiles(SIM_PROFILES, 'my_profiles.yaml');
    const { workload, errors } = loadWorkloadText(TINY_SIM_RECIPE, 'tiny_sim.yaml', { profiles, env: {} });
    expect(errors).toEqual([]);
    expect(workload?.server.runtime).toBe('sim');
    expect(workload?.bench.map((run) => run.runName)).toEqual(['short-conc-2']);
  });
});
