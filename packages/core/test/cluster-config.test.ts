import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TempDirs } from '@botvisor/testkit';
import { expect } from 'chai';
import { ConfigError, type ResolvedConfig, redact, resolveConfig, resolveControlConfig } from '../src/index.js';

const T1 = '111111111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const bots = [{ name: 'main', kind: 'bridge', tokenEnv: 'MAIN_TOKEN' }];

function resolve(cluster: object, env: NodeJS.ProcessEnv = {}, baseDir = '/tmp'): ResolvedConfig {
  return resolveConfig({ cluster, bots }, { source: 'botvisor.json', baseDir, env: { MAIN_TOKEN: T1, ...env } });
}

function issuesOf(cluster: object, env: NodeJS.ProcessEnv = {}, baseDir = '/tmp'): string[] {
  try {
    resolve(cluster, env, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config: cluster', () => {
  const temp = new TempDirs();
  afterEach(() => temp.removeAll());

  it('absent: one machine', () => {
    expect(resolveConfig({ bots }, { source: 'x', baseDir: '/tmp', env: { MAIN_TOKEN: T1 } }).cluster).to.equal(undefined);
  });

  it('the connection string from postgresEnv, with the defaults; the control config never reads it', () => {
    const url = 'postgres://botvisor:cluster-pass-123@db.example:5432/botvisor';
    const config = resolve({ postgresEnv: 'BOTVISOR_PG', node: 'host-a' }, { BOTVISOR_PG: url });
    expect(config.cluster).to.deep.equal({ node: 'host-a', leaseMs: 10_000, renewMs: 2000, postgresSource: { postgresEnv: 'BOTVISOR_PG' }, postgres: url });
    const control = resolveControlConfig({ cluster: { postgresEnv: 'UNSET_HERE', node: 'host-a' }, bots }, { source: 'x', baseDir: '/tmp' });
    expect(control.cluster).to.deep.equal({ node: 'host-a', leaseMs: 10_000, renewMs: 2000, postgresSource: { postgresEnv: 'UNSET_HERE' } });
  });

  it('registers the connection string and its password with the log redaction', () => {
    const url = 'postgres://botvisor:another-secret-42@db.example/botvisor';
    resolve({ postgresEnv: 'PG', node: 'a' }, { PG: url });
    expect(redact(`connecting to ${url}`)).not.to.include('another-secret-42');
    expect(redact('password another-secret-42 refused')).not.to.include('another-secret-42');
  });

  it('a postgresFile must be private, like a token file', () => {
    const dir = temp.make();
    const file = path.join(dir, 'pg.url');
    writeFileSync(file, 'postgres://botvisor:file-secret-99@db/botvisor\n', { mode: 0o644 });
    expect(issuesOf({ postgresFile: 'pg.url', node: 'a' }, {}, dir)).to.deep.equal([`cluster.postgresFile: ${file} is readable by group or others (mode 0644); run chmod 600 ${file}`]);
    writeFileSync(path.join(dir, 'ok.url'), 'postgres://botvisor:file-secret-99@db/botvisor\n', { mode: 0o600 });
    expect(resolve({ postgresFile: 'ok.url', node: 'a' }, {}, dir).cluster?.postgres).to.equal('postgres://botvisor:file-secret-99@db/botvisor');
  });

  it('says what to fix, never the secret: no source, two sources, an unset variable, not a connection string, renewMs too long, a bad node name', () => {
    expect(issuesOf({ node: 'a' })).to.deep.equal(['cluster: expected one of postgres, postgresEnv or postgresFile (the PostgreSQL connection string)']);
    expect(issuesOf({ node: 'a', postgres: 'postgres://x@y/z', postgresEnv: 'PG' })).to.deep.equal(['cluster: expected only one of postgres, postgresEnv or postgresFile, got postgres and postgresEnv']);
    expect(issuesOf({ node: 'a', postgresEnv: 'PG' })).to.deep.equal(['cluster.postgresEnv: environment variable PG is not set; export it before starting botvisor']);
    const wrong = issuesOf({ node: 'a', postgresEnv: 'PG' }, { PG: 'mysql://root:hunter2-secret@db' });
    expect(wrong).to.deep.equal(['cluster.postgresEnv: expected a connection string such as postgres://botvisor@db.example:5432/botvisor']);
    expect(wrong.join()).not.to.include('hunter2');
    expect(issuesOf({ node: 'a', postgres: 'postgres://x@y/z', leaseMs: 3000, renewMs: 1500 })).to.deep.equal(['cluster.renewMs: renewMs must be at most a third of leaseMs, so a lease survives a failed renewal or two']);
    expect(issuesOf({ node: 'a b', postgres: 'postgres://x@y/z' })[0]).to.match(/^cluster\.node: expected a node name/);
  });

  it('a password written in the config file works, with a warning', () => {
    const config = resolve({ node: 'a', postgres: 'postgres://botvisor:inline-pass-77@db/botvisor' });
    expect(config.warnings).to.include('cluster.postgres: a password is written in the config file; prefer postgresEnv or postgresFile (chmod 600)');
  });
});
