// A rollup plugin for bundles that run on this XS (13.3, from @agoric/xsnap):
// @noble/curves uses static class fields, which it fails on ("Point: get ?:
// not initialized yet"), so a chunk that contains @noble/curves has them
// lowered by esbuild. Other chunks are left exactly as rollup wrote them
// (their computron counts are pinned). Used by rollup.config.js and by hil.
import { transform } from 'esbuild';

export function lowerStaticFieldsForNoble(): { name: string; renderChunk(code: string, chunk: { moduleIds: string[] }): Promise<{ code: string; map: null } | null> } {
  return {
    name: 'lower-static-fields-for-noble',
    async renderChunk(code, chunk) {
      if (!chunk.moduleIds.some((id) => id.includes('/node_modules/@noble/curves/'))) return null;
      const out = await transform(code, { target: 'es2022', supported: { 'class-static-field': false }, charset: 'utf8' });
      return { code: out.code, map: null };
    },
  };
}
