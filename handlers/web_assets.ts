/**
 * The dashboard's static files: the page, its script and styles from web/, and the npm
 * packages it vendors (uPlot for charts, swagger-ui-dist for /docs). They are imported
 * as text, so the container, the edge handler and tests serve the same bytes without
 * file I/O and no request ever leaves the origin.
 *
 * Every asset URL carries a digest of its content (`/assets/<digest>/<name>`), so the
 * files can be cached forever (`immutable`) and a new deploy is a new URL.
 */
import appCss from "../web/app.css" with { type: "text" };
import appJs from "../web/app.js" with { type: "text" };
import docsJs from "../web/docs.js" with { type: "text" };
import faviconSvg from "../web/favicon.svg" with { type: "text" };
import indexHtml from "../web/index.html" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };

export interface WebAsset {
  name: string;
  contentType: string;
  text: string;
  /** Content digest: part of the URL, so a changed file is a new URL. */
  digest: string;
  url: string;
}

/**
 * A 53-bit content digest (cyrb53). Not a security hash: it only has to change when
 * the file does, and be computable synchronously while the module loads.
 */
function contentDigest(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

function asset(name: string, contentType: string, text: string): WebAsset {
  const digest = contentDigest(text);
  return { name, contentType, text, digest, url: `/assets/${digest}/${name}` };
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Every file under /assets/, by name. */
export const WEB_ASSETS: ReadonlyMap<string, WebAsset> = new Map(
  [
    asset("app.js", JS, appJs),
    asset("app.css", CSS, appCss),
    asset("uPlot.iife.min.js", JS, uplotJs),
    asset("uPlot.min.css", CSS, uplotCss),
    asset("favicon.svg", "image/svg+xml", faviconSvg),
    asset("docs.js", JS, docsJs),
    asset("swagger-ui-bundle.js", JS, swaggerJs),
    asset("swagger-ui.css", CSS, swaggerCss),
  ].map((entry) => [entry.name, entry]),
);

export function assetUrl(name: string): string {
  const found = WEB_ASSETS.get(name);
  if (!found) throw new Error(`no web asset named ${name}`);
  return found.url;
}

/** web/index.html with `{{asset:name}}` placeholders replaced by versioned URLs. */
export const DASHBOARD_HTML: string = indexHtml.replace(
  /\{\{asset:([\w.-]+)\}\}/g,
  (_match: string, name: string) => assetUrl(name),
);

const compressed = new Map<string, Promise<Uint8Array>>();

/** The gzip bytes of a text, computed once per distinct key and kept. */
export function gzipOnce(key: string, text: string): Promise<Uint8Array> {
  let bytes = compressed.get(key);
  if (!bytes) {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
    bytes = new Response(stream).arrayBuffer().then((buffer) => new Uint8Array(buffer));
    compressed.set(key, bytes);
  }
  return bytes;
}
