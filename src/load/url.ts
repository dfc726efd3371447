/** Routes under a base URL: a server behind a reverse-proxy location keeps its path prefix. */

/**
 * A route under a base URL, keeping the base's path: a server behind a reverse-proxy location
 * (http://lb/app) has its routes at /app/pid and /app/api/:n. `path` starts with "/" and may carry a query.
 */
export function routeUrl(base: URL, path: string): string {
  return `${base.origin}${pathPrefix(base)}${path}`;
}

/** The base URL's path without its trailing slashes: '' for http://host/, '/app' for http://lb/app/. */
export function pathPrefix(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}
