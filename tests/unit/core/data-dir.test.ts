// Data folder resolution: --data-dir, then $EFFECTS_STUDIO_HOME, then Electron's userData, then the platform default.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDataDir } from '../../../src/main/core/data-dir.ts';

const home = '/home/ada';

describe('resolveDataDir', () => {
  it('prefers an explicit --data-dir over everything, made absolute', () => {
    const env = { EFFECTS_STUDIO_HOME: '/env/home' };
    expect(resolveDataDir({ dataDir: 'rel/data', electronUserData: '/electron', env, home })).toBe(resolve('rel/data'));
  });

  it('uses $EFFECTS_STUDIO_HOME before Electron userData', () => {
    expect(resolveDataDir({ electronUserData: '/electron', env: { EFFECTS_STUDIO_HOME: '/env/home' }, home })).toBe('/env/home');
  });

  it('uses Electron userData when nothing overrides it', () => {
    expect(resolveDataDir({ electronUserData: '/electron/user', env: {}, home })).toBe('/electron/user');
  });

  it('ignores an empty environment variable', () => {
    expect(resolveDataDir({ env: { EFFECTS_STUDIO_HOME: '' }, platform: 'linux', home })).toBe(join(home, '.config', 'effects-studio'));
  });

  it('falls back to the folder Electron would use on each platform', () => {
    expect(resolveDataDir({ env: {}, platform: 'linux', home })).toBe(join(home, '.config', 'effects-studio'));
    expect(resolveDataDir({ env: { XDG_CONFIG_HOME: '/xdg' }, platform: 'linux', home })).toBe(join('/xdg', 'effects-studio'));
    expect(resolveDataDir({ env: {}, platform: 'darwin', home })).toBe(join(home, 'Library', 'Application Support', 'effects-studio'));
    expect(resolveDataDir({ env: { APPDATA: '/appdata' }, platform: 'win32', home })).toBe(join('/appdata', 'effects-studio'));
    expect(resolveDataDir({ env: {}, platform: 'win32', home })).toBe(join(home, 'AppData', 'Roaming', 'effects-studio'));
  });
});
