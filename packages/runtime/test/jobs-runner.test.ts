import { existsSync } from 'node:fs';
import { TempDirs, waitFor } from '@botvisor/testkit';
import { expect } from 'chai';
import { type SinonFakeTimers, useFakeTimers } from 'sinon';
import { ArgumentError, fillArgv, JOB_MARKER_VAR, type JobProcessReport, type JobResult, runJob, valuesFromText } from '../src/index.js';
import { TailBuffer } from '../src/jobs/io/tail-buffer.js';
import { failureSentence, pickStderrLine } from '../src/jobs/result/failure-sentence.js';
import { type DeadlineKind, type DeadlineTimers, JobDeadlines } from '../src/jobs/terminate/deadlines.js';
import { findByJobMarker } from '../src/jobs/terminate/job-members.js';
import { filesIn, tool } from './support/job-fixtures.js';

const HOSTILE = ['; rm -rf /', '$(id)', '`id`', '5\nrm -rf /', '--help', '5 && reboot', '../../etc/passwd', "'; DROP TABLE jobs; --"];

describe('job runner: arguments', () => {
  it('rejects every hostile value where a number is expected, with a message that shows the pattern', () => {
    for (const value of HOSTILE) {
      expect(() => fillArgv(['sleep', '{secs}'], { secs: value }, { secs: '^[0-9]{1,4}$' }), value)
        .to.throw(ArgumentError)
        .with.property('message')
        .that.includes('^[0-9]{1,4}$');
    }
    expect(fillArgv(['sleep', '{secs}'], { secs: '42' }, { secs: '^[0-9]{1,4}$' })).to.deep.equal(['sleep', '42']);
  });

  it('matches patterns in full even when the pattern has no anchors, and a trailing newline never slips through', () => {
    expect(() => fillArgv(['x', '{n}'], { n: '12abc' }, { n: '[0-9]+' })).to.throw(ArgumentError);
    expect(() => fillArgv(['x', '{n}'], { n: '12\n' }, { n: '^[0-9]+$' })).to.throw(ArgumentError);
    expect(fillArgv(['x', '--lines={n}'], { n: '12' }, { n: '[0-9]+' })).to.deep.equal(['x', '--lines=12']);
  });

  it('fills values literally (a value holding "{x}" stays as it is) and needs a pattern and a value for each placeholder', () => {
    expect(fillArgv(['echo', '{a}', '{b}'], { a: '{b}', b: 'B' }, { a: '^.+$', b: '^.+$' })).to.deep.equal(['echo', '{b}', 'B']);
    expect(() => fillArgv(['echo', '{a}'], {}, { a: '^.+$' })).to.throw(/missing argument <a>/);
    expect(() => fillArgv(['echo', '{a}'], { a: 'x' }, {})).to.throw(/no pattern for \{a\}/);
  });

  it('splits a user\'s text: one placeholder takes the whole text, the last of several takes the rest of the line', () => {
    expect(valuesFromText(['grep', '{what}'], '  a b  c ')).to.deep.equal({ what: 'a b  c' });
    expect(valuesFromText(['tail', '-n', '{n}', '{file}'], '20 my log.txt')).to.deep.equal({ n: '20', file: 'my log.txt' });
    expect(() => valuesFromText(['uptime'], 'extra')).to.throw(ArgumentError);
  });

  it('passes hostile values to the tool literally: no shell ever interprets them', async () => {
    const temp = new TempDirs();
    try {
      const spoolDir = temp.make('botvisor-jobs-');
      for (const value of HOSTILE) {
        const handle = runJob({ argv: [process.execPath, tool('print-args'), '{text}'], args: { text: value }, patterns: { text: '^[\\s\\S]{1,300}$' }, spoolDir });
        const result = await handle.result;
        expect(result.ok, value).to.equal(true);
        expect(JSON.parse(result.tail), value).to.deep.equal([value]);
      }
    } finally {
      temp.removeAll();
    }
  });
});

describe('job runner: processes, output, deadlines, temp files', function () {
  this.timeout(30_000);
  const temp = new TempDirs();
  let spoolDir: string;

  beforeEach(() => {
    spoolDir = temp.make('botvisor-jobs-');
  });
  afterEach(() => temp.removeAll());

  it('reports child-spawned and child-exited with the process ref, and returns code, duration and output size', async () => {
    const reports: JobProcessReport[] = [];
    const result = await runJob({ id: 'job-7', argv: [process.execPath, tool('lines'), '5', '0', '10'], spoolDir, report: (m) => reports.push(m) }).result;
    expect(result).to.include({ code: 0, signal: null, outputBytes: 50, timedOut: false, cancelled: false, ok: true });
    expect(result.durationMs).to.be.a('number').and.at.least(0);
    expect(reports.map((r) => r.type)).to.deep.equal(['child-spawned', 'child-exited']);
    const [spawned, exited] = reports as [Extract<JobProcessReport, { type: 'child-spawned' }>, Extract<JobProcessReport, { type: 'child-exited' }>];
    expect(spawned.jobId).to.equal('job-7');
    expect(spawned.child.command).to.equal('node');
    expect(exited.child).to.deep.equal({ pid: spawned.child.pid, startTime: spawned.child.startTime });
    expect(exited).to.include({ code: 0, signal: null });
  });

  it('builds a human sentence from stderr instead of "exit code 1"', async () => {
    const result = await runJob({ name: 'backup', argv: [process.execPath, tool('fail')], spoolDir }).result;
    expect(result.code).to.equal(3);
    expect(result.failure).to.equal('`backup` failed (exit code 3): fatal: could not open /nope/config.yml: No such file or directory');
    const missing = await runJob({ argv: ['botvisor-no-such-tool'], spoolDir }).result;
    expect(missing.failure).to.match(/`botvisor-no-such-tool` could not be started: it is not installed/);
    expect(missing.code).to.equal(null);
  });

  it('times out: the tree is killed and the result says so', async () => {
    const started = Date.now();
    const handle = runJob({ argv: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 300, killGraceMs: 500, spoolDir });
    const result = await handle.result;
    expect(result).to.include({ timedOut: true, timeoutKind: 'total', cancelled: false, ok: false });
    expect(result.failure).to.include('ran longer than its 0.3 s limit');
    expect(Date.now() - started).to.be.below(5000);
    expect(findByJobMarker(handle.marker)).to.deep.equal([]);
  });

  it('idle timeout: a job silent for longer than the limit is stopped', async () => {
    const result = await runJob({ argv: ['sh', '-c', 'echo hello; sleep 30'], idleTimeoutMs: 700, killGraceMs: 300, spoolDir }).result;
    expect(result).to.include({ timedOut: true, timeoutKind: 'idle', ok: false });
    expect(result.tail).to.equal('hello\n');
    expect(result.failure).to.include('printed nothing for 0.7 s');
  });

  it('idle timeout: output arriving shortly before each deadline keeps the job alive to the end', async () => {
    // A line every 800 ms against a 1200 ms idle limit, for 3.2 s in all: never idle for long enough.
    const result = await runJob({ argv: [process.execPath, tool('lines'), '5', '800', '20'], idleTimeoutMs: 1200, spoolDir }).result;
    expect(result).to.include({ ok: true, timedOut: false, code: 0, outputBytes: 100 });
    expect(result.durationMs).to.be.above(3000);
  });

  it('cancel stops the whole tree, and the result says cancelled', async () => {
    const handle = runJob({ argv: ['sh', '-c', 'sleep 30 & sleep 30 & wait'], killGraceMs: 500, spoolDir });
    await waitFor(() => findByJobMarker(handle.marker).length >= 3, { what: 'the shell and its two sleeps' });
    handle.cancel();
    const result = await handle.result;
    expect(result).to.include({ cancelled: true, ok: false, survivors: 0 });
    expect(findByJobMarker(handle.marker)).to.deep.equal([]);
  });

  it('a /stop during a timeout\'s kill grace wins: the result says stopped on request', async () => {
    // The tool ignores SIGTERM, so the timeout's stop is still in its grace when the person asks.
    const argv = [process.execPath, '-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"];
    const handle = runJob({ argv, timeoutMs: 300, killGraceMs: 1500, spoolDir });
    await new Promise((resolve) => setTimeout(resolve, 700));
    handle.cancel();
    const result = await handle.result;
    expect(result).to.include({ cancelled: true, timedOut: false, ok: false, signal: 'SIGKILL' });
    expect(result.failure).to.include('was stopped on request');
  });

  it('a background process left behind by a finished job is stopped, and the job ends without waiting for it', async () => {
    const started = Date.now();
    const handle = runJob({ argv: ['sh', '-c', 'sleep 30 & echo started'], spoolDir });
    const result = await handle.result;
    expect(result).to.include({ ok: true, code: 0 });
    expect(result.tail).to.equal('started\n');
    expect(Date.now() - started).to.be.below(5000);
    expect(findByJobMarker(handle.marker)).to.deep.equal([]);
  });

  it('removes its temp file after success, failure, timeout, cancel and a tool that cannot start; the log exists until onEnded settles', async () => {
    const seen: Array<{ existed: boolean; bytes: number }> = [];
    const onEnded = (_r: JobResult, log: { path: string; bytes: number } | undefined) => void seen.push({ existed: log !== undefined && existsSync(log.path), bytes: log?.bytes ?? -1 });
    await runJob({ argv: [process.execPath, tool('lines'), '3', '0', '10'], spoolDir, onEnded }).result;
    await runJob({ argv: [process.execPath, tool('fail')], spoolDir, onEnded }).result;
    await runJob({ argv: ['sleep', '30'], timeoutMs: 200, killGraceMs: 200, spoolDir, onEnded }).result;
    const cancelled = runJob({ argv: ['sleep', '30'], killGraceMs: 200, spoolDir, onEnded });
    cancelled.cancel();
    await cancelled.result;
    await runJob({ argv: ['botvisor-no-such-tool'], spoolDir, onEnded }).result;
    const throwing = await runJob({ argv: ['true'], spoolDir, onEnded: () => Promise.reject(new Error('listener failed')) }).result;
    expect(throwing.ok).to.equal(true);
    expect(seen.map((s) => s.existed)).to.deep.equal([true, true, true, true, true]);
    expect(seen[0]?.bytes).to.equal(30);
    expect(filesIn(spoolDir)).to.deep.equal([]);
  });

  it('gives the job only allow-listed variables, plus the tree cookie and its own marker', async () => {
    const env = { PATH: process.env.PATH, HOME: '/home/ada', MAIN_TOKEN: '123:secret', BOTVISOR_TREE: 'tree-1' };
    const handle = runJob({ argv: [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'], env: { set: { MODE: 'test' } }, spoolDir }, { env });
    const seen = JSON.parse((await handle.result).tail) as Record<string, string>;
    expect(seen).to.not.have.property('MAIN_TOKEN');
    expect(seen).to.include({ HOME: '/home/ada', MODE: 'test', BOTVISOR_TREE: 'tree-1', [JOB_MARKER_VAR]: handle.marker });
  });

  it('drains stdout and stderr concurrently: 20 MB on each never deadlocks, and memory holds only the tail', async () => {
    const script = "const b = Buffer.alloc(1 << 20, 97); for (let i = 0; i < 20; i++) { require('fs').writeSync(1, b); require('fs').writeSync(2, b); }";
    const result = await runJob({ argv: [process.execPath, '-e', script], tailBytes: 1024, spoolDir }).result;
    expect(result).to.include({ ok: true, outputBytes: 40 * 1024 * 1024 });
    expect(result.tail).to.have.length(1024);
  });
});

describe('job runner: parts', () => {
  it('tail buffer keeps the last bytes across wraps and never starts inside a UTF-8 character', () => {
    const tail = new TailBuffer(8);
    tail.write(Buffer.from('abc'));
    tail.write(Buffer.from('defghij'));
    expect(tail.text()).to.equal('cdefghij');
    tail.write(Buffer.from('xyzé')); // é is two bytes
    expect(tail.bytes().length).to.equal(8);
    expect(tail.text()).to.equal('hijxyzé');
    tail.write(Buffer.from('ééééé'));
    expect(tail.text()).to.equal('éééé');
    expect(tail.total).to.equal(25);
  });

  it('failure sentences: deadlines, signals, stack traces', () => {
    const base = { program: 'tool', code: null, signal: null, timedOut: false, cancelled: false, stderrTail: '' };
    expect(failureSentence({ ...base, code: 0 })).to.equal(undefined);
    expect(failureSentence({ ...base, code: 1 })).to.equal('`tool` failed with exit code 1 and printed no error message.');
    expect(failureSentence({ ...base, signal: 'SIGKILL' })).to.equal('`tool` was killed by SIGKILL.');
    expect(failureSentence({ ...base, timedOut: true, timeoutKind: 'idle', idleTimeoutMs: 60_000 })).to.equal('`tool` printed nothing for 60 s and was stopped.');
    const trace = 'file:///x.js:1\nthrow new Error("boom")\n^\n\nError: disk quota exceeded\n    at main (file:///x.js:1:7)\n    at node:internal/main:1:1\n\nNode.js v20.20.2\n';
    expect(pickStderrLine(trace)).to.equal('Error: disk quota exceeded');
  });

  describe('idle deadline, with a fake clock', () => {
    let clock: SinonFakeTimers;
    beforeEach(() => {
      clock = useFakeTimers();
    });
    afterEach(() => clock.restore());

    function fakeTimers(beforeLastLook: () => void = () => undefined): DeadlineTimers {
      return {
        now: () => Date.now(),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
        // The I/O phase runs before the last look: whatever it reads counts.
        afterIo: (fn) => void setTimeout(() => {
          beforeLastLook();
          fn();
        }, 0),
      };
    }

    it('activity 1 ms before the deadline re-arms it for the full period', () => {
      const fired: DeadlineKind[] = [];
      const d = new JobDeadlines({ idleTimeoutMs: 1000, onExpire: (k) => fired.push(k), timers: fakeTimers() });
      clock.tick(999);
      d.activity();
      clock.tick(1);
      clock.tick(998);
      expect(fired).to.deep.equal([]);
      clock.tick(5);
      expect(fired).to.deep.equal(['idle']);
      d.stop();
    });

    it('output already in the pipe when the timer fires is read before deciding, and keeps the job alive', () => {
      const fired: DeadlineKind[] = [];
      let pending = true;
      let d: JobDeadlines | undefined;
      d = new JobDeadlines({
        idleTimeoutMs: 1000,
        onExpire: (k) => fired.push(k),
        timers: fakeTimers(() => {
          if (pending) d?.activity(); // the chunk that was waiting in the pipe
          pending = false;
        }),
      });
      clock.tick(1000);
      clock.tick(1);
      expect(fired).to.deep.equal([]);
      clock.tick(990);
      expect(fired).to.deep.equal([]);
      clock.tick(20);
      expect(fired).to.deep.equal(['idle']);
      d.stop();
    });

    it('stop() silences both deadlines', () => {
      const fired: DeadlineKind[] = [];
      const d = new JobDeadlines({ timeoutMs: 500, idleTimeoutMs: 300, onExpire: (k) => fired.push(k), timers: fakeTimers() });
      d.stop();
      clock.tick(10_000);
      expect(fired).to.deep.equal([]);
    });
  });
});
