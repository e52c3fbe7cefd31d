// electron-builder afterPack hook (electron-builder.yml): strips the native libraries of the
// PACKAGED copy (resources/app.asar.unpacked), never node_modules. On Linux
// `strip --strip-unneeded` takes libtensorflow_cc.so.2 from 788 MB to ~583 MB. macOS and Windows
// copies are left as they are (a stripped Mach-O needs re-signing; the wheels' DLLs carry no
// debug sections).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Every regular ELF file under dir (symlinks skipped: their targets are stripped once). */
function elfFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...elfFiles(p));
    else if (e.isFile()) {
      const fd = fs.openSync(p, 'r');
      const head = Buffer.alloc(4);
      fs.readSync(fd, head, 0, 4, 0);
      fs.closeSync(fd);
      if (head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) out.push(p);
    }
  }
  return out;
}

function stripTree(dir, log = console.log) {
  if (!fs.existsSync(dir)) return { before: 0, after: 0, files: 0 };
  let before = 0;
  let after = 0;
  const files = elfFiles(dir);
  for (const f of files) {
    const size = fs.statSync(f).size;
    before += size;
    const r = spawnSync('strip', ['--strip-unneeded', f], { encoding: 'utf8' });
    if (r.error) throw new Error(`afterPack: could not run strip (${r.error.message}); install binutils.`);
    if (r.status !== 0) throw new Error(`afterPack: strip failed on ${f}: ${r.stderr.trim()}`);
    after += fs.statSync(f).size;
  }
  log(
    `  • stripped ${files.length} native files in ${path.basename(dir)}: ${(before / 1e6).toFixed(0)} MB -> ${(after / 1e6).toFixed(0)} MB`,
  );
  return { before, after, files: files.length };
}

exports.default = async function afterPack(context) {
  if (context.electronPlatformName !== 'linux') return;
  stripTree(path.join(context.appOutDir, 'resources', 'app.asar.unpacked'));
};
exports.stripTree = stripTree;
exports.elfFiles = elfFiles;
