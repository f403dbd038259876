#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on offline machines.
# `prisma generate` only needs the WASM engines; migrations run through tools/db/migrate.ts.
echo "ctxlab: the native Prisma schema engine is not used; run 'npm run db:migrate' instead" >&2
exit 1
