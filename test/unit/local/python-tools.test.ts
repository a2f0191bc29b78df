/**
 * Whether `npm test` / `npm run demo` install moto_server and cfn-lint into .venv/: decided from a fake PATH of
 * stub programs, and the build driven through a stub python3 that behaves like `python3 -m venv` and pip.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decidePythonTools,
  ensurePythonTools,
  NO_PYTHON_MESSAGE,
  pythonToolCommand,
  type PythonToolsLayout,
} from '../../../local/python-tools.ts';

const made: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'python-tools-'));
  made.push(dir);
  return dir;
}

async function program(dir: string, name: string, script = 'exit 0', mode = 0o755): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, mode);
  return file;
}

/** A project root and a PATH of two directories holding the named programs. */
async function layout(onPath: string[], inVenv: string[] = []): Promise<PythonToolsLayout & { bin: string }> {
  const root = await tempDir();
  const bin = join(root, 'bin');
  const other = join(root, 'other-bin');
  await mkdir(other);
  for (const name of onPath) await program(bin, name);
  for (const name of inVenv) await program(join(root, '.venv', 'bin'), name);
  return { root, bin, path: [other, bin].join(delimiter) };
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('decidePythonTools', () => {
  it('installs nothing when both tools are on the PATH', async () => {
    expect(decidePythonTools(await layout(['moto_server', 'cfn-lint', 'python3']))).toEqual({ action: 'none' });
  });

  it('installs nothing when .venv/ already has them', async () => {
    const l = await layout([], ['moto_server', 'cfn-lint']);
    expect(decidePythonTools(l)).toEqual({ action: 'none' });
    expect(pythonToolCommand('moto_server', l)).toBe(join(l.root, '.venv', 'bin', 'moto_server'));
  });

  it('builds .venv/ with the python3 on the PATH when a tool is missing', async () => {
    const l = await layout(['cfn-lint', 'python3']);
    expect(decidePythonTools(l)).toEqual({
      action: 'create-venv',
      python: join(l.bin, 'python3'),
      missing: ['moto_server'],
    });
    expect(decidePythonTools(await layout(['python3']))).toMatchObject({ missing: ['moto_server', 'cfn-lint'] });
  });

  it('does not count a file that is not executable', async () => {
    const l = await layout(['cfn-lint', 'python3']);
    await program(l.bin, 'moto_server', 'exit 0', 0o644);
    expect(decidePythonTools(l)).toMatchObject({ action: 'create-venv', missing: ['moto_server'] });
  });

  it('says exactly what to install when there is no python3', async () => {
    const decision = decidePythonTools(await layout(['cfn-lint']));
    expect(decision).toEqual({ action: 'fail', message: NO_PYTHON_MESSAGE });
    expect(NO_PYTHON_MESSAGE).toContain('apt-get install python3 python3-venv');
    expect(NO_PYTHON_MESSAGE).toContain('pip install -r requirements-dev.txt');
  });

  it('runs the tools from the PATH when .venv/ has none', async () => {
    expect(pythonToolCommand('cfn-lint', await layout(['cfn-lint']))).toBe('cfn-lint');
  });
});

/** A python3 whose `-m venv DIR` makes DIR/bin/python; that one's `-m pip install ... -r FILE` logs and "installs". */
async function stubPython(bin: string, pip: 'works' | 'offline'): Promise<void> {
  const pipScript =
    pip === 'works'
      ? 'echo "$@" >> "$(dirname "$0")/../pip-calls"; for t in moto_server cfn-lint; do printf "#!/bin/sh\\n" > "$(dirname "$0")/$t"; chmod +x "$(dirname "$0")/$t"; done'
      : 'echo "ERROR: Could not find a version that satisfies the requirement moto==5.2.1" >&2; exit 1';
  await program(
    bin,
    'python3',
    [
      '[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2',
      'mkdir -p "$3/bin"',
      `cat > "$3/bin/python" <<'EOF'\n#!/bin/sh\n${pipScript}\nEOF`,
      'chmod +x "$3/bin/python"',
    ].join('\n'),
  );
}

describe('ensurePythonTools', () => {
  it('does nothing, and says nothing, when the tools are on the PATH', async () => {
    const l = await layout(['moto_server', 'cfn-lint', 'python3']);
    const lines: string[] = [];
    await ensurePythonTools((line) => lines.push(line), l);
    expect(lines).toEqual([]);
    await expect(readFile(join(l.root, '.venv', 'pip-calls'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('creates .venv/ from requirements-dev.txt once, then uses its tools', async () => {
    const l = await layout([]);
    await stubPython(l.bin, 'works');
    const lines: string[] = [];
    await ensurePythonTools((line) => lines.push(line), l);
    const calls = await readFile(join(l.root, '.venv', 'pip-calls'), 'utf8');
    expect(calls).toBe(
      `-m pip install --disable-pip-version-check --quiet -r ${join(l.root, 'requirements-dev.txt')}\n`,
    );
    expect(lines[0]).toMatch(/^python tools: moto_server and cfn-lint not on the PATH; installing .*\(once\)$/);
    expect(pythonToolCommand('moto_server', l)).toBe(join(l.root, '.venv', 'bin', 'moto_server'));

    await ensurePythonTools((line) => lines.push(line), l);
    expect(await readFile(join(l.root, '.venv', 'pip-calls'), 'utf8')).toBe(calls);
  });

  it('fails with pip’s reason and what to do when the package index cannot be reached', async () => {
    const l = await layout([]);
    await stubPython(l.bin, 'offline');
    await expect(ensurePythonTools(() => undefined, l)).rejects.toThrow(
      /pip could not install requirements-dev.txt into \.venv\/[\s\S]*Could not find a version[\s\S]*pip install -r requirements-dev.txt/,
    );
  });

  it('fails with the install advice when there is no python3', async () => {
    await expect(ensurePythonTools(() => undefined, await layout([]))).rejects.toThrow(NO_PYTHON_MESSAGE);
  });
});
