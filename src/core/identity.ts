/**
 * The identity a response carries, and how a client asks for all of it.
 *
 * Our demo server sends all four identity headers on every response. A user's app under `serve --app` is a guest:
 * its agent (app/agent.ts) adds only the two that say which worker answered, x-worker-pid and x-worker-id, to
 * every response, and the two that name the cluster and the machine, x-primary-pid and x-hostname, only to a
 * response whose request asks with this header. Our own clients always ask (the load engine: probe, compare,
 * fleet); a browser or a user's curl sees the worker without the host's name (`curl -H 'x-cluster-demo-identity:
 * full'` shows all four). Two headers fewer on every response of the app: less of the machine told to every
 * client, and less work per response (bench row 9).
 */
export const IDENTITY_REQUEST_HEADER = 'x-cluster-demo-identity';
export const IDENTITY_REQUEST_VALUE = 'full';
