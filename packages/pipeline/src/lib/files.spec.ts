import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoot, recipe, tempDir } from '../../test/helpers.js';
import { checkOutputPath, checkPipelineFiles, PipelineFileError, writeUploads } from './files.js';
import { generatePipeline } from './generate.js';
import type { CommandStep, Pipeline } from './types.js';
import { checkUploads } from './validate.js';

async function rejection(action: () => unknown): Promise<PipelineFileError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineFileError);
    return error as PipelineFileError;
  }
  throw new Error('did not throw');
}

/** Steps with the given keys and `parallelism`; only what writing and counting read. */
const upload = (keys: string[], parallelism = 1): Pipeline => ({
  steps: keys.map((key) => ({ key, ...(parallelism > 1 ? { parallelism } : {}) }) as unknown as CommandStep),
});

describe('writeUploads', () => {
  it('writes the one upload to the output path, relative to cwd', async () => {
    const root = makeRoot({ recipes: { 'a.yaml': recipe({ nightly: true }) } });
    const generated = generatePipeline({ root, env: {} });
    const written = await writeUploads(generated, 'out/pipeline.yaml', { cwd: root });
    expect(written).toEqual([{ path: 'out/pipeline.yaml', steps: 1, jobs: 1 }]);
    expect(readFileSync(join(root, 'out/pipeline.yaml'), 'utf8')).toBe(generated.uploadYaml[0]);
  });

  it('writes several uploads to numbered names in order, reporting each as it is in place', async () => {
    const dir = tempDir();
    const uploads = [upload(['a', 'b'], 2), upload(['c'])];
    const seen: string[] = [];
    const written = await writeUploads(
      { uploads, uploadYaml: ['first\n', 'second\n'] },
      join(dir, 'p.yaml'),
      { onWritten: (file, i) => seen.push(`${i}:${file.path}:${readFileSync(file.path, 'utf8')}`) },
    );
    expect(written).toEqual([
      { path: join(dir, 'p.1.yaml'), steps: 2, jobs: 4 },
      { path: join(dir, 'p.2.yaml'), steps: 1, jobs: 1 },
    ]);
    expect(seen).toEqual([`0:${join(dir, 'p.1.yaml')}:first\n`, `1:${join(dir, 'p.2.yaml')}:second\n`]);
  });

  it('names the file it could not write and why', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    const error = await rejection(() =>
      writeUploads({ uploads: [upload(['a'])], uploadYaml: ['x\n'] }, 'file/p.yaml', { cwd: dir }),
    );
    expect(error).toMatchObject({ code: 'E_PIPELINE_FILE', category: 'usage', path: 'file/p.yaml' });
    expect(error.problem).toBe('unwritable');
    expect(error.message).toBe(`cannot write file/p.yaml: ${error.reason}`);
  });
});

describe('checkOutputPath', () => {
  it('accepts a new file in a directory that exists or can be created', () => {
    const dir = tempDir();
    expect(() => checkOutputPath('p.yaml', dir)).not.toThrow();
    expect(() => checkOutputPath('a/b/p.yaml', dir)).not.toThrow();
  });

  it('refuses a directory and a path under a file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'file'), '');
    const directory = await rejection(() => checkOutputPath('out/', dir));
    expect(directory).toMatchObject({ problem: 'is-directory', path: 'out/' });
    expect(directory.message).toBe('out/ is a directory; give a file path such as out/pipeline.yaml');
    const underFile = await rejection(() => checkOutputPath('file/p.yaml', dir));
    expect(underFile).toMatchObject({
      problem: 'unwritable',
      reason: `${join(dir, 'file')} is a file, not a directory`,
    });
  });
});

describe('checkPipelineFiles', () => {
  it('checks the files together, as checkUploads does, and counts steps and jobs', () => {
    const dir = tempDir();
    const documents = [upload(['a', 'b'], 2), upload(['a'])];
    documents.forEach((document, i) => writeFileSync(join(dir, `p.${i + 1}.yaml`), JSON.stringify(document)));
    const result = checkPipelineFiles(['p.1.yaml', 'p.2.yaml'], { cwd: dir });
    expect(result.issues).toEqual(checkUploads(documents));
    expect(result.issues.some((issue) => issue.message.includes("key 'a' is already used in upload 1"))).toBe(
      true,
    );
    expect(result.files).toEqual([
      { path: 'p.1.yaml', steps: 2, jobs: 4 },
      { path: 'p.2.yaml', steps: 1, jobs: 1 },
    ]);
  });

  it('a document without a steps list counts as empty (its issues say why)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.yaml'), 'steps: 5\n');
    const result = checkPipelineFiles(['p.yaml'], { cwd: dir });
    expect(result.files).toEqual([{ path: 'p.yaml', steps: 0, jobs: 0 }]);
    expect(result.issues.length).toBeGreaterThan(0);
  });

  it('refuses a missing file, a FIFO and invalid YAML with the reason', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    writeFileSync(join(dir, 'bad.yaml'), 'steps: [\n');
    expect((await rejection(() => checkPipelineFiles(['nope.yaml'], { cwd: dir }))).message).toBe(
      'cannot read nope.yaml: not found',
    );
    expect((await rejection(() => checkPipelineFiles(['fifo.yaml'], { cwd: dir }))).message).toBe(
      'cannot read fifo.yaml: is a FIFO (named pipe), not a regular file',
    );
    const yaml = await rejection(() => checkPipelineFiles(['bad.yaml'], { cwd: dir }));
    expect(yaml).toMatchObject({ problem: 'unreadable', path: 'bad.yaml' });
    expect(yaml.message).toMatch(/^cannot read bad\.yaml: \S/);
    expect(yaml.message).not.toContain('\n');
  });
});
