// The Electron adapter's decisions (src-main/electron/decisions.ts), checked without an Electron
// binary: window options, the menu, the dialogs, the trainer utilityProcess's arguments and env.
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import {
  menuTemplate,
  pickDirectoryOptions,
  pickedDirectory,
  pickedSavePath,
  preloadPath,
  saveDialogOptions,
  trainerEntry,
  trainerForkArgs,
  windowOptions,
} from '../../../../src-main/electron/decisions';
import { trainerEnv } from '../../../../src-main/trainer/supervisor';

const flat = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
  items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);

describe('electron adapter decisions', () => {
  it('window: hidden until ready, a usable minimum size, no webPreferences of its own (window.ts adds the secure ones)', () => {
    const o = windowOptions();
    expect(o).toEqual({
      width: 1280,
      height: 820,
      minWidth: 900,
      minHeight: 600,
      title: 'Autoencoder Studio',
      show: false,
    });
    expect(o).not.toHaveProperty('webPreferences');
    expect(preloadPath('/opt/app/resources/app.asar/dist-main', path.posix.join)).toBe(
      '/opt/app/resources/app.asar/dist-main/preload.cjs',
    );
  });

  it('menu: workspace actions call the host, developer tools only unpackaged, macOS roles on macOS', () => {
    const actions = { openWorkspace: vi.fn(), importModel: vi.fn(), importJob: vi.fn(), showWorkspace: vi.fn() };
    const packaged = flat(menuTemplate({ isMac: false, isPackaged: true }, actions));
    expect(packaged.some((i) => i.role === 'toggleDevTools')).toBe(false);
    expect(packaged.some((i) => i.role === 'quit')).toBe(true);
    expect(packaged.some((i) => i.role === 'appMenu')).toBe(false);
    const byLabel = (l: string) => packaged.find((i) => i.label === l)!;
    expect(byLabel('Open Workspace…').accelerator).toBe('CmdOrCtrl+O');
    (byLabel('Open Workspace…').click as () => void)();
    (byLabel('Import TensorFlow.js Model…').click as () => void)();
    (byLabel('Import Trained Cluster Job…').click as () => void)();
    (byLabel('Show Workspace Folder').click as () => void)();
    expect([
      actions.openWorkspace.mock.calls.length,
      actions.importModel.mock.calls.length,
      actions.importJob.mock.calls.length,
      actions.showWorkspace.mock.calls.length,
    ]).toEqual([1, 1, 1, 1]);
    const dev = flat(menuTemplate({ isMac: true, isPackaged: false }, actions));
    expect(dev.some((i) => i.role === 'toggleDevTools')).toBe(true);
    expect(dev[0].role).toBe('appMenu');
    expect(dev.some((i) => i.role === 'close') && !dev.some((i) => i.role === 'quit')).toBe(true);
    // no menu item loads anything: only roles and the four actions
    expect(packaged.filter((i) => i.click).map((i) => i.label)).toEqual([
      'Open Workspace…',
      'Show Workspace Folder',
      'Import TensorFlow.js Model…',
      'Import Trained Cluster Job…',
    ]);
  });

  it('dialogs: one folder (creatable); Save as proposes a bare file name in Downloads; cancel gives nothing', () => {
    expect(pickDirectoryOptions('Open Workspace')).toEqual({
      title: 'Open Workspace',
      properties: ['openDirectory', 'createDirectory'],
    });
    expect(saveDialogOptions('/home/u/Downloads', 'run-1-encoder.onnx', path.posix.join)).toEqual({
      defaultPath: '/home/u/Downloads/run-1-encoder.onnx',
    });
    expect(saveDialogOptions('/home/u/Downloads', '../../.bashrc', path.posix.join).defaultPath).toBe(
      '/home/u/Downloads/.bashrc',
    );
    expect(saveDialogOptions('C:\\Users\\u\\Downloads', 'a\\b\\c.csv', path.win32.join).defaultPath).toBe(
      'C:\\Users\\u\\Downloads\\c.csv',
    );
    expect(saveDialogOptions('/d', '', path.posix.join).defaultPath).toBe('/d/export');
    expect(pickedDirectory({ canceled: true, filePaths: ['/x'] })).toBeUndefined();
    expect(pickedDirectory({ canceled: false, filePaths: [] })).toBeUndefined();
    expect(pickedDirectory({ canceled: false, filePaths: ['/ws', '/other'] })).toBe('/ws');
    expect(pickedSavePath({ canceled: false, filePath: '' })).toBeUndefined();
    expect(pickedSavePath({ canceled: true, filePath: '/x.onnx' })).toBeUndefined();
    expect(pickedSavePath({ canceled: false, filePath: '/x.onnx' })).toBe('/x.onnx');
  });

  it('trainer utilityProcess: no arguments, a service name, stderr piped, only the env it needs', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        NODE_OPTIONS: '--require /tmp/evil.js',
        ELECTRON_RUN_AS_NODE: '1',
        AWS_SECRET_ACCESS_KEY: 'x',
        TF_NUM_INTRAOP_THREADS: '3',
      });
      const { args, options } = trainerForkArgs(trainerEnv());
      expect(args).toEqual([]);
      expect(options.serviceName).toBe('Autoencoder Studio trainer');
      expect(options.stdio).toBe('pipe');
      expect(options.env).toMatchObject({ TF_NUM_INTRAOP_THREADS: '3', TF_CPP_MIN_LOG_LEVEL: expect.any(String) });
      expect(Object.keys(options.env ?? {})).not.toEqual(expect.arrayContaining(['NODE_OPTIONS']));
      expect(options.env).not.toHaveProperty('ELECTRON_RUN_AS_NODE');
      expect(options.env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
      // even when a caller passes them in
      expect(trainerForkArgs({ NODE_OPTIONS: 'x', ELECTRON_NO_ASAR: '1', PATH: '/bin' }).options.env).toEqual({
        PATH: '/bin',
      });
      expect(trainerEntry('/app/resources/app.asar/dist-main', path.posix.join)).toBe(
        '/app/resources/app.asar/dist-main/trainer.cjs',
      );
    } finally {
      process.env = saved;
    }
  });
});
