// Builds the player into dist/: player.js (one minified IIFE exposing the
// global `Streamfront`, with hls.js inside) and player.css, each with a
// source map, plus hls.js's worker so transmuxing can leave the main thread.
// dist/.gitkeep stays: the Go package embeds dist/ and needs it to exist.

import { readdir, rm, copyFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');

for (const name of await readdir(dist)) {
  if (name !== '.gitkeep') await rm(path.join(dist, name), { recursive: true, force: true });
}

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  logLevel: 'info',
  legalComments: 'linked',
};

await esbuild.build({
  ...common,
  entryPoints: [path.join(here, 'src/player.js')],
  outfile: path.join(dist, 'player.js'),
  format: 'iife',
  globalName: 'Streamfront',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
});

await esbuild.build({
  ...common,
  entryPoints: [path.join(here, 'src/player.css')],
  outfile: path.join(dist, 'player.css'),
  target: ['chrome90', 'firefox90', 'safari15'],
});

for (const name of ['hls.worker.js', 'hls.worker.js.map']) {
  await copyFile(path.join(here, 'node_modules/hls.js/dist', name), path.join(dist, name));
}
