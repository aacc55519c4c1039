#!/bin/sh
# Bundle the todo page for the browser (run from interop/; `make todo-bundle` does):
#   sh browser/todo/build.sh [OUTDIR] [ENTRY]
# OUTDIR defaults to browser/dist/todo; ENTRY to browser/todo/app.js (the page), or, while there
# is no app.js, runtime/placeholder-app.js. Writes OUTDIR/todo.js and copies index.html and
# style.css (the placeholder's when the page has none). Everything comes from interop/node_modules
# (esbuild; nothing fetched). Native modules are replaced by browser stand-ins in runtime/:
# sodium-native -> sodium-javascript + the missing ed25519 DH, rocksdb-native -> an in-memory
# store, fs/path -> small stubs.
set -eu
HERE=browser/todo
RT=$HERE/runtime
OUT=${1:-browser/dist/todo}
ENTRY=${2:-}
if [ -z "$ENTRY" ]; then
  if [ -f "$HERE/app.js" ]; then ENTRY=$HERE/app.js; else ENTRY=$RT/placeholder-app.js; fi
fi
test -x node_modules/.bin/esbuild || { echo "interop/node_modules/.bin/esbuild missing: run make deps" >&2; exit 1; }
mkdir -p "$OUT"
node_modules/.bin/esbuild "$ENTRY" --bundle --platform=browser --format=iife --target=es2020 \
  --alias:sodium-native=./$RT/sodium.cjs \
  --alias:rocksdb-native=./$RT/rocksdb-memory.cjs \
  --alias:fs=./$RT/fs.cjs \
  --alias:device-file=./$RT/device-file.cjs \
  --alias:path=./$RT/path.cjs \
  --define:global=globalThis \
  --outfile="$OUT/todo.js" --log-level=warning
for f in index.html style.css; do
  if [ -f "$HERE/$f" ]; then cp "$HERE/$f" "$OUT/$f"; else cp "$RT/placeholder-$f" "$OUT/$f"; fi
done
