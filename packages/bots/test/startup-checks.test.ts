import { ConfigError } from '@botvisor/runtime';
import { expect } from 'chai';
import { ButtonRegistry, CommandTable, GhostButtonError } from '../src/index.js';

describe('bridge start-up checks', () => {
  it('a button whose callback data no handler matches is a ghost button', () => {
    const buttons = new ButtonRegistry();
    buttons.declare({ name: 'stop a job', example: 'bridge:stop:1' });
    buttons.declare({ name: 'pause a job', example: 'bridge:pause:1' });
    buttons.handles(/^bridge:stop:(\d+)$/);
    expect(() => buttons.verify()).to.throw(GhostButtonError, 'ghost button "pause a job": its callback data "bridge:pause:1" matches no handler');
    buttons.handles(/^bridge:pause:(\d+)$/);
    expect(() => buttons.verify()).to.not.throw();
  });

  it('callback data over 64 bytes is refused', () => {
    expect(() => new ButtonRegistry().declare({ name: 'long', example: 'x'.repeat(65) })).to.throw(/over Telegram's 64-byte limit/);
  });

  it('a command registered twice, or a config command shadowing a built-in, is a ConfigError', () => {
    const table = new CommandTable('bridge');
    table.add({ name: 'help', description: 'h', usage: '', source: 'built-in', admin: false });
    expect(() => table.add({ name: 'help', description: 'mine', usage: '', source: 'config', admin: false }, 0)).to.throw(ConfigError, 'bots[0].commands.help: shadows the built-in /help; rename it');
    table.add({ name: 'sleep', description: 's', usage: '', source: 'config', admin: false });
    expect(() => table.add({ name: 'sleep', description: 's', usage: '', source: 'config', admin: false })).to.throw(ConfigError, 'command /sleep: is registered twice (config and config)');
  });
});
